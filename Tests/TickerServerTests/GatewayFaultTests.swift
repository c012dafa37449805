import Foundation
import GatewayHarness
import MarketData
import TestSupport
import Testing
import TickerClient

/// Issue 12, acceptance 2, as one command:
/// `swift test --filter GatewayFaultTests` (run by `.ci/run` through `swift test`).
///
/// A real redis-server, one feed node, three gateways, 20 clients per gateway
/// on the same 24 symbols, each with its own sequence checker (GatewayProbe):
///
/// - (a) `CLIENT KILL TYPE pubsub`, then `CLIENT KILL TYPE normal` (every link
///   of the feed and the gateways): no gap at all, declared or not;
/// - (b) `kill -9` of redis-server for 10 s, then a restart, empty, on the same
///   port: no process exits, `/healthz` degraded meanwhile, every gateway's link
///   back within 5 s of Redis answering (measured), clients see only contiguous
///   sequences or declared gaps;
/// - (c) the feed node restarted: every client gets snapshots (declared resets)
///   and nothing backwards;
/// - (d) one gateway restarted: the other gateways' clients are undisturbed (no
///   close, no gap, still receiving), and the new gateway serves new clients.
///
/// Prints the counts of declared gaps, declared resets and violations; the
/// violations must be 0.
@Suite(.serialized, .enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct GatewayFaultTests {
    static let outageSeconds = 10.0

    @Test(.timeLimit(.minutes(5)))
    func faultSequence() async throws {
        try await gated(.exclusive) {
            let cluster = try GatewayCluster<ServerProcess>(gateways: 3, feed: ["--interval-ms", "50"])
            defer { cluster.stop() }
            let redis = cluster.redis
            var feed: ServerProcess { cluster.feed }
            var gateways: [ServerProcess] { cluster.gateways }
            usleep(300_000)
            let universe = try GatewayCluster<ServerProcess>.universe()
            let all = Set((0..<24).map(UInt32.init))
            let probes = try (0..<60).map { i in
                try GatewayProbe(port: gateways[i % 3].port, gateway: i % 3, symbols: all) { universe[$0].symbol }
            }
            // Clients are read on a thread of their own: starting or stopping
            // a process must not leave them unread (the server would close them).
            let pump = ProbePump(probes)
            defer { pump.stop() }
            pump.wait(upTo: 1.5)
            func gatewayMetric(_ name: String) throws -> [Double] {
                try gateways.map { try metric(name, port: $0.port) ?? -1 }
            }
            func violations() -> Int { pump.sum { $0.violations + $0.backwards } }

            // (a) Kill the Redis links: pub/sub ones (there are none), then every normal one.
            let pubsubKilled = try redisCLI(redis.port, ["CLIENT", "KILL", "TYPE", "pubsub"])
            let normalKilled = try redisCLI(redis.port, ["CLIENT", "KILL", "TYPE", "normal"])
            pump.wait(upTo: 2)
            let connects = try gatewayMetric("ticker_redis_connects_total")
            let gapsA = try gatewayMetric("ticker_redis_declared_gaps_total")
            let clientGapsA = pump.sum(\.declaredGaps)
            let violationsA = violations()
            print("fault (a): CLIENT KILL TYPE pubsub killed \(pubsubKilled), TYPE normal killed \(normalKilled); gateway connects \(connects), gaps declared by gateways \(gapsA), declared gaps at clients \(clientGapsA), violations \(violationsA)")
            #expect(Int(normalKilled) ?? 0 >= 4, "the feed's and the three gateways' links were killed")
            #expect(connects.allSatisfy { $0 >= 2 }, "every gateway reconnected: \(connects)")
            // Nothing was lost on the way: the gateways saw every sequence. A
            // client may still get conflated records when the test machine is
            // so loaded that this process reads slower than the stream (the
            // hub's declared load shedding, 0 on a quiet machine); they are
            // printed above and checked by the sequence rule, never a gap.
            #expect(gapsA.allSatisfy { $0 == 0 }, "no gap after killed links: \(gapsA) declared by the gateways")
            #expect(violationsA == 0)

            // (b) kill -9 Redis for 10 s, restart it empty.
            redis.kill9()
            let killedAt = Date()
            pump.wait(upTo: 2)
            for g in gateways {
                let health = try GatewayProbe.healthz(g.port)
                #expect(health.contains("503") && health.contains("degraded: redis link"), "healthz while Redis is gone: \(health)")
            }
            pump.wait(upTo: Self.outageSeconds - Date().timeIntervalSince(killedAt))
            try redis.restartEmpty()
            let back = Date()
            var upAfter: [Double?] = [nil, nil, nil]
            while Date().timeIntervalSince(back) < 8 && upAfter.contains(where: { $0 == nil }) {
                for (i, g) in gateways.enumerated() where upAfter[i] == nil {
                    if try metric("ticker_redis_link_up", port: g.port) == 1 { upAfter[i] = Date().timeIntervalSince(back) }
                }
                usleep(50_000)
            }
            pump.wait(upTo: 3)
            let upText = upAfter.map { $0.map { String(format: "%.2f s", $0) } ?? "never" }.joined(separator: ", ")
            let gapsB = try gatewayMetric("ticker_redis_declared_gaps_total")
            let clientGapsB = pump.sum(\.declaredGaps) - clientGapsA
            let violationsB = violations()
            let feedDropped = try metric("ticker_redis_batches_dropped_total", port: feed.port) ?? -1
            print("fault (b): Redis down \(String(format: "%.1f", back.timeIntervalSince(killedAt))) s (kill -9), restarted empty; gateway links back after \(upText); feed batches dropped \(Int(feedDropped)); gaps declared by gateways \(gapsB), declared gaps at clients \(clientGapsB), violations \(violationsB)")
            #expect(back.timeIntervalSince(killedAt) >= Self.outageSeconds)
            #expect(upAfter.allSatisfy { ($0 ?? 99) < 5 }, "every gateway reconnected within 5 s: \(upText)")
            #expect(feed.process.isRunning && gateways.allSatisfy { $0.process.isRunning }, "no process exited")
            for g in gateways { #expect(try GatewayProbe.healthz(g.port).contains("200 OK")) }
            #expect(violationsB == 0, "only contiguous sequences or declared gaps")
            #expect(pump.sum { $0.closed ? 1 : 0 } == 0, "no client was closed")

            // (c) Restart the feed node: every client gets a declared reset per symbol.
            try cluster.restartFeed()
            let allReset = pump.wait(upTo: 20) { $0.allSatisfy { $0.resets >= 24 } }
            pump.wait(upTo: 1)
            let resetsC = pump.sum(\.resets)
            let fewest = pump.read { $0.map(\.resets).min() ?? 0 }
            let restarts = try gatewayMetric("ticker_redis_feed_restarts_total")
            let violationsC = violations()
            print("fault (c): feed restarted; gateway in-place restarts \(restarts), declared resets (snapshots) at clients \(resetsC) (fewest at one client: \(fewest)), violations \(violationsC)")
            #expect(restarts.allSatisfy { $0 == 1 }, "every gateway followed the new run: \(restarts)")
            #expect(allReset, "a snapshot per symbol at every client (fewest: \(fewest) of 24)")
            #expect(violationsC == 0, "nothing backwards, no gap")
            #expect(pump.sum { $0.closed ? 1 : 0 } == 0)

            // (d) Restart gateway 2: the others' clients must not notice.
            let others = probes.filter { $0.gateway != 2 }
            let recordsBefore = pump.read { _ in others.map(\.records) }
            try cluster.restartGateway(2)
            let newcomers = try (0..<20).map { _ in
                try GatewayProbe(port: gateways[2].port, gateway: 2, symbols: all) { universe[$0].symbol }
            }
            pump.add(newcomers)
            pump.wait(upTo: 15) { _ in newcomers.allSatisfy { $0.records > 100 } }
            pump.wait(upTo: 1)
            let (closedD, stalled, droppedOld, served) = pump.read { _ in
                (others.filter(\.closed).count, zip(others, recordsBefore).filter { $0.records - $1 < 100 }.count,
                 probes.filter { $0.gateway == 2 && $0.closed }.count, newcomers.filter { $0.records > 100 && !$0.closed }.count)
            }
            let violationsD = violations()
            print("fault (d): gateway 2 restarted; its \(droppedOld) clients closed, others: \(closedD) closed, \(stalled) stalled; \(served) of 20 new clients served; violations \(violationsD)")
            #expect(closedD == 0 && stalled == 0, "the other gateways' clients were undisturbed")
            #expect(served == 20, "the restarted gateway serves")
            #expect(violationsD == 0)

            let declared = try gatewayMetric("ticker_redis_declared_gaps_total").reduce(0, +)
            let clientDeclared = pump.sum(\.declaredGaps)
            let resets = pump.sum(\.resets)
            let total = pump.sum { $0.violations + $0.backwards + $0.client.tracker.gaps.count }
            print("gateway faults: \(Int(declared)) gaps declared by gateways, \(clientDeclared) declared gaps and \(resets) declared resets at clients, \(total) violations")
            #expect(total == 0, "violations: \(pump.read { $0.flatMap(\.violationSamples).prefix(5) })")
            pump.stop()
            pump.read { for p in $0 { p.client.close() } }
        }
    }
}
