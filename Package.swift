// swift-tools-version: 6.0
// No package dependencies: toolchain only (stdlib, Foundation, Glibc,
// Dispatch, Synchronization, XCTest / Swift Testing) plus our own C shim.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]
/// No runtime exclusivity checks in release builds of single-threaded hot
/// code; debug builds keep them, so the tests run the checked code.
let releaseOnlyUnchecked: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "ticker",
    products: [
        .executable(name: "ticker", targets: ["ticker"]),
        .library(name: "TickerClient", targets: ["TickerClient"]),
        // wss:// for TickerClient through the system's OpenSSL (libssl-dev);
        // a product of its own so ws:// users need no OpenSSL headers.
        .library(name: "TickerClientTLS", targets: ["TickerClientTLS"]),
    ],
    targets: [
        // C headers Glibc's Swift module does not expose (epoll, eventfd, timerfd).
        .target(name: "CTickerShim"),
        // HTTP/1.1 heads: request parser and reader, start-line screen, response
        // writer and parser, HTTP errors. Sans-IO, like the WebSocket layer above it.
        .target(name: "HTTP", swiftSettings: strict),
        // Sans-IO: bytes in, events and bytes out. Never touches a socket.
        .target(name: "WebSocketProtocol", dependencies: ["HTTP"], swiftSettings: strict),
        // Tick model, symbol table, binary wire codec, JSON control messages. Pure.
        .target(name: "MarketData", swiftSettings: strict),
        // libm's log and exp for the price model (header-only), so PriceFeed
        // imports neither Foundation nor Glibc.
        .target(name: "CMath", linkerSettings: [.linkedLibrary("m")]),
        // JWT (HS256) verification and minting: SHA-256, HMAC, base64url, the key file. Pure;
        // MarketData for its bounded JSON parser.
        .target(name: "Auth", dependencies: ["MarketData"], swiftSettings: strict),
        // SplitMix64, the one seeded generator (price model seeding, jitter, tests). Pure.
        .target(name: "SplitMix", swiftSettings: strict),
        // Exponential back-off with jitter: the client's reconnects and the Redis link's. Pure.
        .target(name: "Retry", dependencies: ["SplitMix"], swiftSettings: strict),
        // Seeded price model; clock injected. Pure.
        .target(name: "PriceFeed", dependencies: ["MarketData", "CMath", "SplitMix"], swiftSettings: strict),
        // Symbol index, conflation, and the outbox each connection's bytes go
        // through. Pure; WebSocketProtocol owns the frame layout it writes.
        // Release builds skip dynamic exclusivity checks, which dominated the
        // per-record loop (docs/ARCHITECTURE.md); debug builds (`swift test`)
        // keep them. The module is single-threaded by design.
        .target(
            name: "FanoutHub", dependencies: ["MarketData", "WebSocketProtocol"],
            swiftSettings: strict + releaseOnlyUnchecked),
        // RESP2/RESP3 parser and encoder for the Redis link. Pure.
        .target(name: "RESP", swiftSettings: strict),
        // The Redis link on the project's event loop (pipelining, reconnect, AUTH/SELECT/HELLO), `RedisURL`.
        .target(name: "RedisClient", dependencies: ["RESP", "PosixIO", "Retry"], swiftSettings: strict),
        // Scale-out over Redis streams: the feed node's sink, the gateway's source, their
        // link threads and status, the stream layout. Sees the server through `ScaleOutNode`.
        .target(
            name: "ScaleOut", dependencies: ["RESP", "RedisClient", "PosixIO", "MarketData", "FanoutHub"],
            swiftSettings: strict),
        // The only module that makes syscalls.
        .target(name: "PosixIO", dependencies: ["CTickerShim"], swiftSettings: strict),
        // The dashboard page and the JavaScript client, compiled into the binary
        // (`PackageResources.<file>_<ext>` bytes), and the answers to their GETs.
        .target(name: "Dashboard", dependencies: ["HTTP"], resources: [.embedInCode("Assets")], swiftSettings: strict),
        .target(
            name: "TickerServer",
            dependencies: ["HTTP", "WebSocketProtocol", "MarketData", "PriceFeed", "FanoutHub", "PosixIO", "RedisClient", "ScaleOut", "Dashboard", "Auth"],
            // The default universe is compiled into the binary, so `ticker serve`
            // needs no resource lookup and runs from any directory.
            exclude: ["Universe/gen_symbols.py"],
            resources: [.embedInCode("Universe/symbols.csv")],
            swiftSettings: strict),
        .target(
            name: "TickerClient",
            dependencies: ["HTTP", "WebSocketProtocol", "MarketData", "PosixIO", "Retry"],
            swiftSettings: strict),
        // The system's OpenSSL (pkg-config `openssl`; Debian `libssl-dev`).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "TickerClientTLS", dependencies: ["TickerClient", "COpenSSL"], swiftSettings: strict),
        .executableTarget(
            name: "ticker", dependencies: ["TickerServer", "TickerClient", "TickerClientTLS", "FanoutHub", "MarketData", "PosixIO", "RedisClient", "ScaleOut", "Auth"],
            swiftSettings: strict),

        // Benchmark support (statistics, loss ledger, SVG) and the benchmark itself.
        // The generator must be cheaper per message than the server it measures;
        // it gets the same single-thread exclusivity setting as FanoutHub.
        .target(
            name: "BenchSupport", dependencies: ["MarketData"], path: "Benchmarks/BenchSupport",
            swiftSettings: strict + releaseOnlyUnchecked),
        .executableTarget(
            name: "TickerBench",
            dependencies: ["BenchSupport", "PosixIO", "HTTP", "WebSocketProtocol", "MarketData", "PriceFeed", "SplitMix", "TickerClient", "TickerServer", "Auth", "GatewayHarness"],
            path: "Benchmarks/TickerBench",
            swiftSettings: strict + releaseOnlyUnchecked),

        // The example in docs/CLIENT.md, built by `swift build` so CI keeps it compiling.
        .executableTarget(
            name: "CandlesExample", dependencies: ["TickerClient", "MarketData"], path: "Examples/Candles",
            swiftSettings: strict),

        .testTarget(name: "TickerClientTests", dependencies: ["TickerClient", "MarketData"]),
        // Helpers shared by the test targets: split feeding of parsers, the one ServerGate
        // (all test targets run in one process), a loop thread for loop-confined clients.
        .target(name: "TestSupport", dependencies: ["SplitMix", "PosixIO"], path: "Tests/TestSupport", swiftSettings: strict),
        // The gateway harness the tests and `TickerBench gateways` share: a throwaway
        // redis-server, a feed node and N gateways (`GatewayCluster`). No Testing import.
        .target(
            name: "GatewayHarness", dependencies: ["TestSupport", "MarketData"], path: "Tests/GatewayHarness",
            swiftSettings: strict),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "TestSupport", "SplitMix"]),
        .testTarget(name: "WebSocketProtocolTests", dependencies: ["WebSocketProtocol", "HTTP", "TestSupport"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "TestSupport"]),
        .testTarget(name: "RetryTests", dependencies: ["Retry", "SplitMix"]),
        .testTarget(name: "RedisClientTests", dependencies: ["RedisClient", "RESP", "Retry", "PosixIO", "TestSupport", "GatewayHarness"]),
        .testTarget(name: "ScaleOutTests", dependencies: ["ScaleOut", "RedisClient", "RESP", "TestSupport", "GatewayHarness"]),
        .testTarget(name: "BenchSupportTests", dependencies: ["BenchSupport"]),
        .testTarget(name: "MarketDataTests", dependencies: ["MarketData", "PriceFeed", "SplitMix"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "MarketData"]),
        .testTarget(name: "FanoutHubTests", dependencies: ["FanoutHub", "MarketData", "WebSocketProtocol"]),
        .testTarget(
            name: "TickerServerTests",
            dependencies: ["TickerServer", "TickerClient", "TickerClientTLS", "Auth", "HTTP", "WebSocketProtocol", "MarketData", "PosixIO", "FanoutHub", "Dashboard", "TestSupport", "GatewayHarness", "SplitMix"]),
    ]
)
