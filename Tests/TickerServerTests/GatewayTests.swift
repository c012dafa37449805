import Foundation
import GatewayHarness
import MarketData
import TestSupport
import Testing
import TickerClient

/// Issue 12, acceptance 1: a real redis-server, one feed node (`ticker feed
/// --redis`) and three gateways (`ticker serve --redis`); 300 clients spread
/// over the gateways on overlapping symbols receive identical records (same
/// sequence, same values) for the same symbol, with no gap, for a minute
/// (`TICKER_GATEWAY_SECONDS` shortens it by hand), and a late subscriber gets
/// the same snapshot on every gateway. Also: a running gateway follows a feed
/// restart in place. The fault sequence is `GatewayFaultTests`.
@Suite(.serialized, .enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct GatewayTests {
    static let seconds = ProcessInfo.processInfo.environment["TICKER_GATEWAY_SECONDS"].flatMap(Double.init) ?? 60

    @Test(.timeLimit(.minutes(4)))
    func threeGatewaysDeliverIdenticalRecords() async throws {
        try await gated(.exclusive) {
            let cluster = try GatewayCluster<ServerProcess>(gateways: 3, feed: ["--interval-ms", "50"])
            defer { cluster.stop() }
            let (feed, gateways) = (cluster.feed, cluster.gateways)
            usleep(300_000)

            // 300 clients, 100 per gateway, each on 1-6 of the first 24 symbols.
            // Each record is checked against the first copy any client got of the
            // same symbol and sequence as it arrives (memory: one copy per record).
            let universe = try GatewayCluster<ServerProcess>.universe()
            let reference = RecordReference()
            var rng = SystemRandomNumberGenerator()
            var probes: [GatewayProbe] = []
            for i in 0..<300 {
                var wanted: Set<UInt32> = []
                let k = Int.random(in: 1...6, using: &rng)
                while wanted.count < k { wanted.insert(UInt32.random(in: 0..<24, using: &rng)) }
                let probe = try GatewayProbe(port: gateways[i % 3].port, gateway: i % 3, symbols: wanted) { universe[$0].symbol }
                probe.compare = reference.check
                probes.append(probe)
            }
            let started = Date()
            let cpuBefore = try gateways.map { try $0.cpuSeconds() }
            GatewayProbe.pump(probes, Self.seconds)
            let cpu = try zip(gateways, cpuBefore).map { try $0.cpuSeconds() - $1 }

            // Stop the feed: the streams stop growing, so the gateways' latest
            // records settle and a late subscriber's snapshot is well defined.
            feed.stop()
            GatewayProbe.pump(probes, 1)
            let elapsed = Date().timeIntervalSince(started)

            for p in probes {
                #expect(p.acked)
                #expect(!p.closed, "no client was closed")
                #expect(p.foreign == 0)
                #expect(p.violations == 0 && p.backwards == 0, "sequence rule: \(p.violationSamples)")
                #expect(p.client.tracker.gaps.isEmpty, "no gap: \(p.client.tracker.gaps.prefix(3))")
            }
            #expect(reference.mismatches.isEmpty, "identical records for the same symbol and sequence: \(reference.mismatches)")
            #expect(reference.compared > Int(Self.seconds) * 1_000, "records compared across clients: \(reference.compared)")
            // Every gateway delivered the same range per symbol: the newest
            // sequence any of its clients saw is the same on all three.
            for symbol in UInt32(0)..<24 {
                let newest = (0..<3).map { g in
                    probes.filter { $0.gateway == g && $0.wanted.contains(symbol) }.compactMap { $0.lastSeen(symbol) }.max()
                }
                if newest.allSatisfy({ $0 != nil }) {
                    #expect(Set(newest).count == 1, "symbol \(symbol): newest per gateway \(newest)")
                }
            }

            // A late subscriber on each gateway: the same snapshot everywhere,
            // equal to the last record the early clients got.
            var late: [[UInt32: Tick]] = []
            for (g, gateway) in gateways.enumerated() {
                let probe = try GatewayProbe(port: gateway.port, gateway: g, symbols: Set(0..<24)) { universe[$0].symbol }
                let deadline = Date().addingTimeInterval(3)
                while Date() < deadline && probe.snapshots.count < 24 { probe.pump(); usleep(1_000) }
                late.append(probe.snapshots)
                probe.client.close()
            }
            #expect(late[0].count == 24, "a snapshot of every symbol: \(late[0].count)")
            #expect(late[0] == late[1] && late[1] == late[2], "the same snapshot on every gateway")
            for (symbol, snap) in late[0] {
                if let newest = reference.newest(symbol) {
                    #expect(snap.sequence == newest, "symbol \(symbol): snapshot seq \(snap.sequence), last delivered \(newest)")
                }
            }
            for p in probes { p.client.close() }
            let totals = probes.reduce(0) { $0 + $1.records }
            let conflated = probes.reduce(0) { $0 + $1.declaredGaps }
            let cpuText = cpu.map { String(format: "%.1f%%", 100 * $0 / Self.seconds) }.joined(separator: " ")
            print("gateway acceptance: 300 clients over 3 gateways for \(String(format: "%.1f", elapsed)) s, \(totals) records (\(conflated) declared conflated), \(reference.compared) compared across clients, \(reference.mismatches.count) mismatches; gateway CPU \(cpuText)")
        }
    }

    /// Feed restarted under a running gateway (issue 12, "feed node restarted"):
    /// the gateway adopts the new epoch in place: its clients get a snapshot
    /// per symbol (a declared reset, never a silent lower sequence), no gap and
    /// no close; `/healthz` stays ok; a new connection's `welcome` names the new
    /// epoch, and a resume naming the old one is reset.
    @Test(.timeLimit(.minutes(4)))
    func feedRestartIsFollowedInPlace() async throws {
        try await gated(.exclusive) {
            let cluster = try GatewayCluster<ServerProcess>(
                gateways: 1, loops: nil, feed: ["--loops", "1", "--interval-ms", "50"], gateway: ["--loops", "2"])
            defer { cluster.stop() }
            let (redis, gateway) = (cluster.redis, cluster.gateways[0])
            usleep(300_000)
            let universe = try GatewayCluster<ServerProcess>.universe()
            let oldEpoch = try redisCLI(redis.port, ["GET", "ticker:epoch"])
            let probes = try (0..<10).map { _ in
                try GatewayProbe(port: gateway.port, gateway: 0, symbols: Set(0..<24)) { universe[$0].symbol }
            }
            let pump = ProbePump(probes)
            defer { pump.stop() }
            pump.wait(upTo: 1.5)
            let before = pump.read { $0.map(\.records) }
            try cluster.restartFeed()
            // The new feed node writes its epoch once its Redis link is up.
            var newEpoch = oldEpoch
            let epochDeadline = Date().addingTimeInterval(10)
            while newEpoch == oldEpoch && Date() < epochDeadline {
                usleep(50_000)
                newEpoch = try redisCLI(redis.port, ["GET", "ticker:epoch"])
            }
            // Every client: a declared reset per symbol, then the new run flowing.
            pump.wait(upTo: 20) { probes in
                probes.allSatisfy { $0.resets >= 24 } && zip(probes, before).allSatisfy { $0.records - $1 > 200 }
            }
            pump.stop()

            #expect(oldEpoch != newEpoch && UInt64(newEpoch) != nil, "the feed took a new epoch: \(oldEpoch) → \(newEpoch)")
            for (i, p) in probes.enumerated() {
                #expect(!p.closed)
                #expect(p.welcomeEpoch.map(String.init) == oldEpoch)
                #expect(p.violations == 0 && p.backwards == 0, "sequence rule: \(p.violationSamples)")
                #expect(p.client.tracker.gaps.isEmpty, "no gap: \(p.client.tracker.gaps.prefix(3))")
                #expect(p.resets >= 24, "a declared reset (snapshot) per symbol after the restart: \(p.resets)")
                #expect(p.records - before[i] > 200, "the new run reaches the client: \(p.records - before[i]) records")
            }
            // A new client: welcome names the new epoch; a resume with the old one is reset.
            let fresh = try TickerClient(url: TickerURL(host: "127.0.0.1", port: gateway.port))
            defer { fresh.close() }
            var welcome: UInt64?
            var resumeReport: ResumeReport?
            try fresh.sendText(#"{"op":"subscribe","id":7,"symbols":["\#(universe[0].symbol)"],"from":{"\#(universe[0].symbol)":3},"epoch":\#(oldEpoch)}"#)
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline && resumeReport == nil {
                switch try fresh.next(timeoutMs: 100) {
                case .control(.welcome(let info)): welcome = info.epoch
                case .control(.subscribed(_, _, let resume)): resumeReport = resume
                default: continue
                }
            }
            #expect(welcome.map(String.init) == newEpoch, "welcome names the new run")
            #expect(resumeReport?.reset.count == 1, "a resume naming the old epoch is reset: \(String(describing: resumeReport))")
            let resets = probes.reduce(0) { $0 + $1.resets }
            let violations = probes.reduce(0) { $0 + $1.violations + $1.backwards }
            print("feed restart in place: \(resets) declared resets (snapshots) at 10 clients, \(violations) violations, epoch \(oldEpoch) → \(newEpoch)")
            for p in probes { p.client.close() }
        }
    }
}
