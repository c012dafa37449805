import Foundation

/// The four scenarios of issue 13, measured the way uWebSockets' pub/sub
/// benchmarks measure a server: small rounds, **one WebSocket message per
/// published tick**, closed loop (the next round starts when every copy of
/// the last one has arrived), latency from each record's event time, exact
/// loss check. Unlike `fanout`/`broadcast`, whose rounds of 1,000-10,000
/// ticks amortize every per-round and per-connection cost, these show what
/// a live feed of individual updates costs.
enum Scenario: String, CaseIterable {
    /// 1,000 clients x 10 of 100 symbols; a round is 100 ticks, each its own
    /// `/v1/publish` message, sent in one write: 10,000 deliveries per round.
    case s1
    /// 1,000 clients on one symbol; a round is 10 ticks: 10,000 deliveries.
    case s2
    /// One tick to 100 subscribers per round: the latency of a lone update.
    case s4
    /// 10,000 and 15,000 upgraded idle connections, nothing subscribed:
    /// server RSS growth per connection.
    case s3
    /// Open loop (issue 24), the default feed's rate through `/v1/publish`:
    /// 1,000 clients x 10 of 520 symbols (about 1.0M deliveries/s).
    case m1
    /// 5,000 clients x 2 of 520 symbols (about 1.0M deliveries/s, little news per socket).
    case m2
    /// 1,000 clients x 52 of 520 symbols (about 5.2M deliveries/s: overload).
    case m3
    /// WebSocket upgrades per second, with and without `--auth-keys` (issue 23).
    case h1

    /// Open-loop presets run unpinned unless `--pin` says otherwise.
    var isOpenLoop: Bool { MarketPreset.of(self) != nil }

    var title: String {
        switch self {
        case .s1: "S1 fan-out: 1,000 clients x 10 of 100 symbols, 100 one-tick messages per round"
        case .s2: "S2 broadcast: 1,000 clients x 1 symbol, 10 one-tick messages per round"
        case .s4: "S4 single: 1 tick to 100 subscribers per round"
        case .s3: "S3 idle: upgraded connections, nothing subscribed"
        case .m1: "M1 open loop: 1,000 clients x 10 of 520 symbols, 52 ticks every 1 ms via /v1/publish"
        case .m2: "M2 open loop: 5,000 clients x 2 of 520 symbols, 52 ticks every 1 ms via /v1/publish"
        case .m3: "M3 open loop (overload): 1,000 clients x 52 of 520 symbols, 52 ticks every 1 ms via /v1/publish"
        case .h1: "H1 handshakes: waves of 1,000 upgrades with ?token=, without and with --auth-keys (ticks/s = handshakes/s)"
        }
    }

    /// Runs the scenario once against one server setup.
    @MainActor
    func run(_ runner: Runner, setup: ServerSetup, clients: Int?) throws -> [RunResult] {
        switch self {
        case .s1:
            return [try runner.closedLoop(preset: "s1", mode: "", clients: clients ?? 1_000, symbols: 100, perClient: 10,
                                          roundTicks: 100, eachTick: true, setup: setup)]
        case .s2:
            return [try runner.closedLoop(preset: "s2", mode: "", clients: clients ?? 1_000, symbols: 1, perClient: 1,
                                          roundTicks: 10, eachTick: true, setup: setup)]
        case .s4:
            return [try runner.closedLoop(preset: "s4", mode: "", clients: clients ?? 100, symbols: 1, perClient: 1,
                                          roundTicks: 1, eachTick: true, setup: setup)]
        case .s3:
            return try (clients.map { [$0] } ?? [10_000, 15_000]).map {
                try runner.idle(clients: $0, preset: "s3", setup: setup)
            }
        case .h1:
            return try runner.handshakes(clients: clients ?? 1_000, setup: setup)
        case .m1, .m2, .m3:
            var preset = MarketPreset.of(self)!
            if let clients { preset.clients = clients }
            return [try runner.openLoop(preset: rawValue, preset, setup: setup, pinned: runner.pinned)]
        }
    }

    /// The figure a repetition is ranked by when picking the median run.
    func rank(_ r: RunResult) -> Double {
        switch self {
        case .s1, .s2, .h1: r.ticksPerSecond
        case .s4, .m1, .m2, .m3: r.latencyP99Ms ?? .infinity
        case .s3: r.bytesPerIdleConnection ?? .infinity
        }
    }
}

enum ScenarioTable {
    /// Per (scenario, setup, clients): the run whose ranking figure is the
    /// median of the repetitions, so every printed row is one real run.
    static func medians(_ runs: [RunResult], repeats: Int) -> [RunResult] {
        var order: [String] = []
        var groups: [String: [RunResult]] = [:]
        for r in runs {
            let key = "\(r.preset)|\(r.mode)|\(r.clients)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        return order.map { key in
            let group = groups[key]!
            let scenario = Scenario(rawValue: group[0].preset) ?? .s1
            let sorted = group.sorted { scenario.rank($0) < scenario.rank($1) }
            var median = sorted[(sorted.count - 1) / 2]
            if group.count > 1 {
                median.lossClean = group.allSatisfy(\.lossClean)
                let figures = sorted.map { scenario == .s4 || scenario.isOpenLoop ? String(format: "%.3f", scenario.rank($0))
                                                           : String(format: "%.0f", scenario.rank($0)) }
                median.lossCheck += " (median of \(group.count): \(figures.joined(separator: " / ")))"
                if !median.lossClean { median.lossCheck = "FAILED in a repetition; " + median.lossCheck }
            }
            return median
        }
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?")
            .split(separator: " ").prefix(3).joined(separator: " ")
    }
}
