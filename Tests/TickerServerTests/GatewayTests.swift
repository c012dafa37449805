import Foundation
import MarketData
import Testing
import TickerClient

/// Issue 12, acceptance 1 (bounded version): a real redis-server, one feed node
/// (`ticker feed --redis`) and three gateways (`ticker serve --redis`); 300
/// clients spread over the gateways on overlapping symbols receive identical
/// records (same sequence, same values) for the same symbol, with no gap, and a
/// late subscriber gets the same snapshot on every gateway.
@Suite(.serialized, .enabled(if: RedisTestServer.isAvailable, RedisTestServer.skipReason))
struct GatewayTests {
    final class Probe {
        let client: TickerClient
        let gateway: Int
        var wanted: Set<UInt32> = []
        var acked = false
        /// Per symbol, per sequence: the record's values. Flags and
        /// `conflatedCount` are cleared: a connection (or a loop) that fell
        /// behind on this loaded machine may conflate and declare it, which is
        /// per-connection by design; sequence and values never differ.
        var records: [UInt32: [UInt64: Tick]] = [:]
        var conflated = 0
        /// Records (snapshots included) whose sequence was below one already received.
        var backwards = 0
        private var newest: [UInt32: UInt64] = [:]
        var snapshots: [UInt32: Tick] = [:]
        var foreign = 0

        init(_ client: TickerClient, gateway: Int) {
            self.client = client
            self.gateway = gateway
        }

        func pump() throws {
            while let event = try client.next(timeoutMs: 0) {
                switch event {
                case .control(.subscribed): acked = true
                case .ticks(_, let ticks):
                    for var t in ticks {
                        if !wanted.contains(t.symbolId) { foreign += 1 }
                        if t.sequence < newest[t.symbolId, default: 0] { backwards += 1 }
                        newest[t.symbolId] = max(t.sequence, newest[t.symbolId, default: 0])
                        if t.flags.contains(.snapshot) {
                            snapshots[t.symbolId] = t
                            continue
                        }
                        if t.flags.contains(.conflated) { conflated += 1 }
                        t.flags = []
                        t.conflatedCount = 0
                        records[t.symbolId, default: [:]][t.sequence] = t
                    }
                default: continue
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func threeGatewaysDeliverIdenticalRecords() async throws {
        try await gated(.exclusive) {
            let redis = try RedisTestServer()
            defer { redis.stop() }
            let feed = try ServerProcess(["--redis", redis.url, "--loops", "1", "--interval-ms", "50"], command: "feed")
            defer { feed.stop() }
            let gateways = try (0..<3).map { _ in try ServerProcess(["--redis", redis.url, "--loops", "1"]) }
            defer { for g in gateways { g.stop() } }
            usleep(300_000)

            // 300 clients, 100 per gateway, each on 1-6 of the first 24 symbols.
            let universe = try SymbolTable(csv: String(contentsOf: RedisTestServer.repoRoot.appendingPathComponent("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8))
            var rng = SystemRandomNumberGenerator()
            var probes: [Probe] = []
            for i in 0..<300 {
                let gateway = i % 3
                let probe = Probe(try TickerClient(url: TickerURL(host: "127.0.0.1", port: gateways[gateway].port)), gateway: gateway)
                let k = Int.random(in: 1...6, using: &rng)
                while probe.wanted.count < k { probe.wanted.insert(UInt32.random(in: 0..<24, using: &rng)) }
                try probe.client.subscribe(probe.wanted.map { universe[$0].symbol }, id: 1)
                probes.append(probe)
            }
            let until = Date().addingTimeInterval(5)
            while Date() < until { for p in probes { try p.pump() } }

            // Stop the feed: the streams stop growing, so the gateways' latest
            // records settle and a late subscriber's snapshot is well defined.
            feed.stop()
            let settle = Date().addingTimeInterval(1)
            while Date() < settle { for p in probes { try p.pump() } }

            var compared = 0
            var mismatches: [String] = []
            var reference: [UInt32: [UInt64: Tick]] = [:]
            for p in probes {
                #expect(p.acked)
                #expect(p.foreign == 0)
                #expect(p.backwards == 0)
                #expect(p.client.tracker.gaps.isEmpty, "no gap: \(p.client.tracker.gaps.prefix(3))")
                for (symbol, bySeq) in p.records {
                    for (seq, tick) in bySeq {
                        if let seen = reference[symbol]?[seq] {
                            compared += 1
                            if seen != tick, mismatches.count < 5 { mismatches.append("\(symbol)#\(seq): \(seen) vs \(tick)") }
                        } else {
                            reference[symbol, default: [:]][seq] = tick
                        }
                    }
                }
            }
            #expect(mismatches.isEmpty, "identical records for the same symbol and sequence: \(mismatches)")
            #expect(compared > 5_000, "records compared across clients: \(compared)")
            // Every gateway delivered the same range per symbol: the newest
            // sequence any of its clients saw is the same on all three.
            for symbol in UInt32(0)..<24 {
                let newest = (0..<3).map { g in
                    probes.filter { $0.gateway == g }.compactMap { $0.records[symbol]?.keys.max() }.max()
                }
                if newest.allSatisfy({ $0 != nil }) {
                    #expect(Set(newest).count == 1, "symbol \(symbol): newest per gateway \(newest)")
                }
            }

            // A late subscriber on each gateway: the same snapshot everywhere,
            // equal to the last record the early clients got.
            let names = (0..<24).map { universe[UInt32($0)].symbol }
            var late: [[UInt32: Tick]] = []
            for g in gateways {
                let probe = Probe(try TickerClient(url: TickerURL(host: "127.0.0.1", port: g.port)), gateway: -1)
                probe.wanted = Set(0..<24)
                try probe.client.subscribe(names, id: 1)
                let deadline = Date().addingTimeInterval(3)
                while Date() < deadline && probe.snapshots.count < 24 { try probe.pump(); usleep(1_000) }
                late.append(probe.snapshots)
                probe.client.close()
            }
            #expect(late[0].count == 24, "a snapshot of every symbol: \(late[0].count)")
            #expect(late[0] == late[1] && late[1] == late[2], "the same snapshot on every gateway")
            for (symbol, snap) in late[0] {
                if let newest = reference[symbol]?.keys.max() {
                    #expect(snap.sequence == newest, "symbol \(symbol): snapshot seq \(snap.sequence), last delivered \(newest)")
                }
            }
            for p in probes { p.client.close() }
            let totals = probes.reduce(0) { $0 + $1.records.values.reduce(0) { $0 + $1.count } }
            let conflated = probes.reduce(0) { $0 + $1.conflated }
            print("gateway acceptance: 300 clients over 3 gateways, \(totals) records (\(conflated) declared conflated), \(compared) compared across clients, \(mismatches.count) mismatches")
        }
    }

    /// Runs `redis-cli -p PORT args…` and returns its output.
    private func redisCLI(_ port: UInt16, _ args: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-cli", "-p", String(port)] + args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    private func healthz(_ port: UInt16) throws -> String {
        let s = try RawSocket(port: port)
        try s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try s.read(timeoutMs: 2_000)
        return s.text
    }

    /// Failure rules (acceptance 2 a and b, bounded): the gateway's Redis link
    /// killed → it reads on from its last ids, its clients see no gap; Redis
    /// killed (-9) and restarted empty → `/healthz` degraded while it is gone,
    /// the link back within 5 s, clients see only contiguous sequences or
    /// declared gaps (checked by the client's sequence tracker), never a
    /// backwards sequence, and no process exits.
    @Test(.timeLimit(.minutes(2)))
    func linkLossAndRedisRestart() async throws {
        try await gated(.exclusive) {
            let redis = try RedisTestServer()
            defer { redis.stop() }
            let feed = try ServerProcess(["--redis", redis.url, "--loops", "1", "--interval-ms", "50"], command: "feed")
            defer { feed.stop() }
            let gateway = try ServerProcess(["--redis", redis.url, "--loops", "1"])
            defer { gateway.stop() }
            usleep(300_000)
            let universe = try SymbolTable(csv: String(contentsOf: RedisTestServer.repoRoot.appendingPathComponent("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8))
            let names = (0..<24).map { universe[UInt32($0)].symbol }
            let probes = try (0..<20).map { _ in
                let p = Probe(try TickerClient(url: TickerURL(host: "127.0.0.1", port: gateway.port)), gateway: 0)
                p.wanted = Set(0..<24)
                try p.client.subscribe(names, id: 1)
                return p
            }
            func pump(_ seconds: Double) throws {
                let until = Date().addingTimeInterval(seconds)
                while Date() < until {
                    for p in probes { try p.pump() }
                    usleep(2_000)
                }
            }
            try pump(1.5)

            // (a) Kill the gateway's own Redis link.
            let list = try redisCLI(redis.port, ["CLIENT", "LIST"])
            let ids = list.split(separator: "\n").filter { $0.contains("name=ticker-gateway ") }
                .compactMap { $0.split(separator: " ").first { $0.hasPrefix("id=") }?.dropFirst(3) }
            #expect(ids.count == 1, "one gateway link in CLIENT LIST: \(list)")
            for id in ids { _ = try redisCLI(redis.port, ["CLIENT", "KILL", "ID", String(id)]) }
            try pump(2)
            #expect(try metric("ticker_redis_connects_total", port: gateway.port) ?? 0 >= 2, "the gateway reconnected")
            let gapsAfterKill = try metric("ticker_redis_declared_gaps_total", port: gateway.port) ?? -1
            #expect(gapsAfterKill == 0, "no gap after a brief link loss: \(gapsAfterKill) declared")
            for p in probes { #expect(p.client.tracker.gaps.isEmpty, "no gap: \(p.client.tracker.gaps.prefix(3))") }

            // (b) kill -9 Redis, then restart it empty on the same port.
            redis.kill9()
            try pump(2)
            let degraded = try healthz(gateway.port)
            #expect(degraded.contains("503") && degraded.contains("degraded: redis link"), "healthz while Redis is gone: \(degraded)")
            try redis.restartEmpty()
            let back = Date()
            var up = false
            while Date().timeIntervalSince(back) < 5 && !up {
                try pump(0.1)
                up = try metric("ticker_redis_link_up", port: gateway.port) == 1
            }
            print("gateway link back \(String(format: "%.2f", Date().timeIntervalSince(back))) s after Redis returned")
            #expect(up, "the gateway reconnected within 5 s")
            try pump(2)
            #expect(try healthz(gateway.port).contains("200 OK"))
            #expect(feed.process.isRunning && gateway.process.isRunning, "no process exited")
            let declared = try metric("ticker_redis_declared_gaps_total", port: gateway.port) ?? -1
            let conflated = probes.reduce(0) { $0 + $1.conflated }
            let violations = probes.reduce(0) { $0 + $1.client.tracker.gaps.count + $1.backwards }
            print("gateway faults: \(Int(declared)) gaps declared by the gateway, \(conflated) conflated records at clients, \(violations) violations")
            #expect(violations == 0, "only contiguous sequences or declared gaps, never backwards")
            for p in probes { p.client.close() }
        }
    }

    /// Feed restarted (acceptance 2 c, what is built): a running gateway never
    /// delivers the new run's lower sequences (no backwards sequence), drops
    /// them and says so in `/healthz`; a gateway started after the restart
    /// takes the new epoch and delivers the new run without a gap.
    @Test(.timeLimit(.minutes(2)))
    func feedRestart() async throws {
        try await gated(.exclusive) {
            let redis = try RedisTestServer()
            defer { redis.stop() }
            let first = try ServerProcess(["--redis", redis.url, "--loops", "1", "--interval-ms", "50"], command: "feed")
            let gateway = try ServerProcess(["--redis", redis.url, "--loops", "1"])
            defer { gateway.stop() }
            usleep(300_000)
            let universe = try SymbolTable(csv: String(contentsOf: RedisTestServer.repoRoot.appendingPathComponent("Sources/TickerServer/Universe/symbols.csv"), encoding: .utf8))
            let names = (0..<24).map { universe[UInt32($0)].symbol }
            func clients(_ port: UInt16) throws -> [Probe] {
                try (0..<10).map { _ in
                    let p = Probe(try TickerClient(url: TickerURL(host: "127.0.0.1", port: port)), gateway: 0)
                    p.wanted = Set(0..<24)
                    try p.client.subscribe(names, id: 1)
                    return p
                }
            }
            let old = try clients(gateway.port)
            func pump(_ probes: [Probe], _ seconds: Double) throws {
                let until = Date().addingTimeInterval(seconds)
                while Date() < until { for p in probes { try p.pump() }; usleep(2_000) }
            }
            try pump(old, 1.5)
            let before = old.map { $0.records.mapValues { $0.keys.max() ?? 0 } }
            let seenBefore = old.map { $0.records.mapValues { Set($0.keys) } }
            first.stop()
            let second = try ServerProcess(["--redis", redis.url, "--loops", "1", "--interval-ms", "50"], command: "feed")
            defer { second.stop() }
            try pump(old, 2)
            var backwards = 0
            for (i, p) in old.enumerated() {
                // Records that arrived after the restart, below what the client had.
                for (symbol, bySeq) in p.records {
                    let earlier = seenBefore[i][symbol] ?? []
                    backwards += bySeq.keys.filter { !earlier.contains($0) && $0 < before[i][symbol, default: 0] }.count
                }
                #expect(p.client.tracker.gaps.isEmpty)
            }
            backwards += old.reduce(0) { $0 + $1.backwards }
            #expect(backwards == 0, "no sequence went backwards on the running gateway")
            let health = try healthz(gateway.port)
            #expect(health.contains("503") && health.contains("epoch changed"), "healthz after a feed restart: \(health)")
            #expect(try metric("ticker_redis_foreign_epoch_entries_total", port: gateway.port) ?? 0 > 0)

            let fresh = try ServerProcess(["--redis", redis.url, "--loops", "1"])
            defer { fresh.stop() }
            let late = try clients(fresh.port)
            try pump(late, 1.5)
            let records = late.reduce(0) { $0 + $1.records.values.reduce(0) { $0 + $1.count } }
            for p in late { #expect(p.client.tracker.gaps.isEmpty, "no gap: \(p.client.tracker.gaps.prefix(3))") }
            #expect(records > 100, "a gateway started after the restart delivers the new run: \(records)")
            #expect(try healthz(fresh.port).contains("200 OK"))
            print("feed restart: \(backwards) backwards on the running gateway, \(records) records on a fresh gateway")
            for p in old + late { p.client.close() }
        }
    }
}
