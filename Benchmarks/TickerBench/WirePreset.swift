import BenchSupport
import Foundation

/// The compact-wire preset (issue 22): the simulated feed at its default
/// rate, 1,000 clients on 10 of the 520 symbols and 100 on `*`, run raw,
/// delta, and delta with `interval_ms=250` in turn. Each group reads in a
/// fleet of its own, so the figures of a `*` reader (bytes of WebSocket
/// frames per delivered tick above all) are its own.
enum WireMode: String, CaseIterable {
    case raw
    case delta
    case delta250 = "delta+250ms"

    var query: String {
        switch self {
        case .raw: ""
        case .delta: "&encoding=delta"
        case .delta250: "&encoding=delta&interval_ms=250"
        }
    }
}

extension Runner {
    /// One run of `mode` on a server started as `setup` says; returns the
    /// `*` group's result and the 10-symbol group's.
    func wire(mode: WireMode, setup: ServerSetup, feedIntervalMs: Double? = nil, starClients: Int = 100, tenClients: Int = 1_000) throws -> [RunResult] {
        var arguments = setup.arguments + ["--heartbeat-ms", "600000", "--max-connections", "19000"]
        if let ms = feedIntervalMs { arguments += ["--interval-ms", String(ms)] }
        let server = try BenchServer(arguments: arguments, binary: setup.binary ?? serverBinary, pinned: pinned)
        defer { server.stop() }
        let symbols = universe.count
        let star = Fleet(symbolCount: symbols)
        defer { star.closeAll() }
        let ten = Fleet(symbolCount: symbols)
        defer { ten.closeAll() }
        try connect(star, port: server.port, queries: Array(repeating: "symbols=*" + mode.query, count: starClients))
        if tenClients > 0 {
            let assigned = assignments(clients: tenClients, symbols: symbols, perClient: 10)
            try connect(ten, port: server.port, queries: queries(assigned).map { $0 + mode.query })
        }
        usleep(1_000_000)   // snapshots and the first samples are not the steady state
        star.resetMeasurements()
        ten.resetMeasurements()
        let (elapsed, serverCPU, selfCPU) = window(server) { usleep(UInt32(seconds * 1_000_000)) }
        let starRecords = star.counters.records.load(ordering: .relaxed)
        let tenRecords = ten.counters.records.load(ordering: .relaxed)
        let label = mode.rawValue + (feedIntervalMs.map { " feed \($0) ms" } ?? "")
        var results: [RunResult] = []
        for (fleet, clients, perClient, group) in [(star, starClients, symbols, "*"), (ten, tenClients, 10, "10 of 520")] where clients > 0 {
            let result = fleet.result()
            var run = summarize(preset: "wire", mode: "\(label) \(group)", clients: clients, symbols: symbols, perClient: perClient,
                                elapsed: elapsed, fleet: fleet, result: result, serverCPU: serverCPU, selfCPU: selfCPU,
                                serverRSS: server.residentBytes)
            // Server CPU per delivered tick counts every record the server
            // delivered in the window, both groups together.
            let all = starRecords + tenRecords
            run.serverCPUNanosPerTick = all > 0 ? serverCPU / 100 * elapsed * 1e9 / Double(all) : nil
            run.bytesPerTick = run.records > 0 ? Double(run.bytes) / Double(run.records) : nil
            let keyframes = fleet.counters.keyframes.load(ordering: .relaxed)
            run.keyframeShare = mode == .raw || run.records == 0 ? nil : Double(keyframes) / Double(run.records)
            run.takeTimeSplit(result)
            let ledger = result.ledger
            run.lossClean = ledger.isClean && ledger.records > 0
            run.lossCheck = run.lossClean
                ? "ok: \(ledger.records) records, sequence rule holds, \(ledger.conflated) updates conflated"
                : "FAILED: gaps \(ledger.gaps) (\(ledger.missing) missing), dup \(ledger.duplicates), reordered \(ledger.reordered)"
            results.append(run)
        }
        return results
    }

    /// `wire`: every mode, `repeats` times, alternating. `wire-overload`:
    /// the feed ten times faster (`--interval-ms 0.1`) to 200 `*` clients on
    /// delta, where loop-level folding must not turn records into keyframes.
    func wirePreset(overload: Bool, repeats: Int, setup: ServerSetup) throws -> [RunResult] {
        var results: [RunResult] = []
        for repetition in 1...repeats {
            for mode in overload ? [WireMode.raw, .delta] : WireMode.allCases {
                let runs = overload
                    ? try wire(mode: mode, setup: setup, feedIntervalMs: 0.1, starClients: 200, tenClients: 0)
                    : try wire(mode: mode, setup: setup)
                for r in runs {
                    print(String(format: "  [%d/%d] %@: %.2f B/tick, %.0f ticks/s, %.0f msgs/s, srv %.0f ns/tick (CPU %.0f%%), p50 %.3f p99 %.3f ms%@, %@",
                                 repetition, repeats, r.mode, r.bytesPerTick ?? 0, r.ticksPerSecond, r.framesPerSecond,
                                 r.serverCPUNanosPerTick ?? 0, r.serverCPUPercent, r.latencyP50Ms ?? 0, r.latencyP99Ms ?? 0,
                                 r.keyframeShare.map { String(format: ", keyframes %.2f%%", $0 * 100) } ?? "", r.lossCheck))
                }
                results += runs
            }
        }
        return results
    }
}
