// swift-tools-version: 6.0
// No package dependencies: toolchain only (stdlib, Foundation, Glibc,
// Dispatch, Synchronization, XCTest / Swift Testing) plus our own C shim.
// NOTE (branch `market` only): other targets are commented out so the pure
// MarketData / PriceFeed modules build alone. Not meant to be merged.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "ticker",
    products: [
        // .executable(name: "ticker", targets: ["ticker"]),
        // .library(name: "TickerClient", targets: ["TickerClient"]),
    ],
    targets: [
        // .target(name: "CTickerShim"),
        // .target(name: "WebSocketProtocol", swiftSettings: strict),
        // Tick model, symbol table, binary wire codec, JSON control messages. Pure.
        .target(name: "MarketData", swiftSettings: strict),
        // Seeded price model; clock injected. Pure.
        .target(name: "PriceFeed", dependencies: ["MarketData"], swiftSettings: strict),
        // .target(name: "FanoutHub", dependencies: ["MarketData"], swiftSettings: strict),
        // .target(name: "PosixIO", dependencies: ["CTickerShim"], swiftSettings: strict),
        // .target(name: "TickerServer", ...),
        // .target(name: "TickerClient", ...),
        // .executableTarget(name: "ticker", ...),
        // .testTarget(name: "WebSocketProtocolTests", dependencies: ["WebSocketProtocol"]),
        .testTarget(name: "MarketDataTests", dependencies: ["MarketData", "PriceFeed"]),
        // .testTarget(name: "FanoutHubTests", ...),
        // .testTarget(name: "TickerServerTests", ...),
    ]
)
