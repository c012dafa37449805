import Foundation
import MarketData

/// A running `ticker` process the cluster starts and stops: the tests'
/// `ServerProcess`, the benchmark's `BenchServer`.
public protocol GatewayNode: AnyObject {
    var port: UInt16 { get }
    func stop()
}

/// The scale-out setup the gateway tests and `TickerBench gateways` share: a
/// throwaway redis-server, one feed node (`ticker feed --redis`) and N
/// gateways (`ticker serve --redis`), on a small universe when asked (the
/// feed and every gateway then carry only what the clients use, which keeps
/// a minute-long test light on a 2-core machine). `start` launches one node:
/// (`"feed"` or `"serve"`, arguments).
public final class GatewayCluster<Node: GatewayNode> {
    public let redis: RedisServer
    /// The `--symbols` file (nil: the default universe).
    public let universePath: String?
    public let feedArguments: [String]
    public let gatewayArguments: [String]
    public private(set) var feed: Node
    public private(set) var gateways: [Node] = []
    private let start: (String, [String]) throws -> Node

    /// `symbols`: the first N symbols of the default universe (nil: all of it).
    /// `feed` and `gateway` are extra arguments of each node.
    public init(gateways count: Int, symbols: Int? = 24, loops: Int? = 1, feed: [String] = [], gateway: [String] = [],
                redis: RedisServer, start: @escaping (_ command: String, _ arguments: [String]) throws -> Node) throws {
        self.redis = redis
        self.start = start
        universePath = try symbols.map { try Self.smallUniverse($0) }
        let common = ["--redis", redis.url] + (universePath.map { ["--symbols", $0] } ?? []) + (loops.map { ["--loops", String($0)] } ?? [])
        feedArguments = common + feed
        gatewayArguments = common + gateway
        do {
            self.feed = try start("feed", feedArguments)
        } catch {
            redis.stop()
            if let universePath { try? FileManager.default.removeItem(atPath: universePath) }
            throw error
        }
        do {
            for _ in 0..<count { gateways.append(try start("serve", gatewayArguments)) }
        } catch {
            stop()
            throw error
        }
    }

    /// Starts the feed node again (after `feed.stop()`, or to restart it: a new epoch).
    public func restartFeed() throws {
        feed.stop()
        feed = try start("feed", feedArguments)
    }

    /// Stops gateway `index` and starts a new one in its place (another port).
    public func restartGateway(_ index: Int) throws {
        gateways[index].stop()
        gateways[index] = try start("serve", gatewayArguments)
    }

    /// Stops every node and Redis, and removes the universe file.
    public func stop() {
        for g in gateways { g.stop() }
        feed.stop()
        redis.stop()
        if let universePath { try? FileManager.default.removeItem(atPath: universePath) }
    }

    /// The first `count` symbols of the default universe in a temp CSV, for `--symbols`.
    public static func smallUniverse(_ count: Int = 24) throws -> String {
        let csv = try String(contentsOfFile: Repository.path("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: true)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ticker-gateway-universe-\(getpid())-\(count).csv").path
        try (lines.prefix(count + 1).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The default universe, as every node loads it.
    public static func universe() throws -> SymbolTable {
        try SymbolTable(csv: String(contentsOfFile: Repository.path("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8))
    }
}

/// Runs `redis-cli -p PORT args…` and returns its output.
public func redisCLI(_ port: UInt16, _ args: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["redis-cli", "-p", String(port)] + args
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
