// swift-tools-version: 6.0
// No package dependencies: toolchain only (stdlib, Foundation, Glibc,
// Dispatch, Synchronization, XCTest / Swift Testing) plus our own C shim.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "ticker",
    // proto worktree only: other targets commented out so WebSocketProtocol builds alone.
    // products: [
    //     .executable(name: "ticker", targets: ["ticker"]),
    //     .library(name: "TickerClient", targets: ["TickerClient"]),
    // ],
    targets: [
        // Sans-IO: bytes in, events and bytes out. Never touches a socket.
        .target(name: "WebSocketProtocol", swiftSettings: strict),
        .testTarget(name: "WebSocketProtocolTests", dependencies: ["WebSocketProtocol"]),
        // proto worktree: CTickerShim, MarketData, PriceFeed, FanoutHub, PosixIO,
        // TickerServer, TickerClient, ticker and their tests are commented out here.
    ]
)
