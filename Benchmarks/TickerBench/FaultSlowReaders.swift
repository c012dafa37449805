import BenchSupport
import Foundation
import MarketData
import PosixIO

/// 3. Readers slower than their stream (SO_RCVBUF 4 KiB, 8 busy symbols,
/// fixed bytes every 50 ms), then 100 readers on `*` that stop reading.
struct SlowReaderScenario {
    let ctx: FaultContext
    init(_ ctx: FaultContext) { self.ctx = ctx }

    func run() throws {
        try slowReaders()
        try stuckReaders()
    }

    private func slowReaders() throws {
        let runSeconds = ctx.seconds(full: 40, short: 25)
        let freshAfter = 10.0
        // Activity falls with the id: ids 0..<8 are the busiest symbols.
        let busy = (0..<8).map { ctx.universe[UInt32($0)].symbol }
        let target = "/v1/stream?symbols=" + busy.joined(separator: ",")
        Say.line("")
        Say.timed("== slow readers: SO_RCVBUF 4 KiB, \(busy.joined(separator: ",")), one read every 50 ms, \(Int(runSeconds)) s; server defaults ==")
        let server = try FaultServer(arguments: [], logPath: ctx.serverLog("slow"))
        defer { server.stop() }

        // The stream's rate, read in full by an ordinary client.
        let meter = ProbeFleet(name: "fault-meter", symbolCount: ctx.universe.count)
        meter.open(port: server.port, targets: [target])
        guard meter.waitReady(1, timeout: 10), meter.readyCount.load(ordering: .relaxed) == 1 else {
            throw BenchError("rate meter did not connect: \(meter.summaries().map(\.outcome))")
        }
        usleep(500_000)
        let b0 = meter.summaries()[0].bytes
        let measure = ctx.short ? 2.0 : 3.0
        usleep(UInt32(measure * 1_000_000))
        let rate = Double(meter.summaries()[0].bytes - b0) / measure
        meter.closeAll()
        let perTick = rate * 0.05
        Say.timed("  stream of the 8 symbols: \(mib(Int(rate)))/s (\(Int(perTick)) bytes per 50 ms)")

        let budgets = [("1 KiB (about a third)", 1024), ("a half", Int(perTick / 2)), ("a tenth", Int(perTick / 10))]
        let readers = ProbeFleet(name: "fault-slow", symbolCount: ctx.universe.count, checkSequence: true)
        defer { readers.closeAll() }
        var ids: [Int] = []
        for (_, budget) in budgets {
            ids += readers.open(port: server.port, targets: [target], receiveBuffer: 4096, after: .budget(max(1, budget)),
                                ageFromSeconds: freshAfter)
        }
        readers.startTimer(milliseconds: 50)
        guard readers.waitReady(ids.count, timeout: 15), readers.readyCount.load(ordering: .relaxed) == ids.count else {
            throw BenchError("slow readers did not connect: \(readers.summaries().map(\.outcome))")
        }
        let watch = Stopwatch()
        var t = 5.0
        while t <= runSeconds {
            waitUntil(watch, t)
            let s = readers.summaries()
            let line = zip(budgets, s).map { b, r in
                "\(b.1) B: \(r.records) rec (\(r.conflatedRecords) confl), max age \(r.recordsAfterAgeFrom > 0 ? ms(r.maxAgeNs) : "-"), \(r.outcome)"
            }.joined(separator: " | ")
            Say.timed("  t+\(Int(t))s \(line)")
            t += 5
        }
        waitUntil(watch, runSeconds)
        let results = readers.summaries()
        readers.closeAll()

        let v = ctx.verdicts
        for ((name, budget), r) in zip(budgets, results) {
            let label = "slow reader \(budget) B / 50 ms (\(name), \(Int((Double(budget) / perTick * 100).rounded()))% of its stream)"
            v.check(r.conflatedRecords > 0, "\(label): receives conflated records", "\(r.conflatedRecords) of \(r.records)")
            v.check(r.closeCode != 4002, "\(label): never closed with 4002", r.outcome)
            v.check(!r.isClosed, "\(label): stays connected for the whole \(Int(runSeconds)) s", r.outcome)
            v.check(r.recordsAfterAgeFrom > 0 && r.maxAgeNs < 2_000_000_000,
                    "\(label): every record read from \(Int(freshAfter)) s on is < 2 s old",
                    "\(r.recordsAfterAgeFrom) records, max age \(r.recordsAfterAgeFrom > 0 ? ms(r.maxAgeNs) : "n/a")")
            let check = r.check ?? StrictSequenceCheck(symbolCount: 0)
            v.check(check.violations == 0, "\(label): sequence rule holds", "violations \(check.violationSummary)")
        }
    }

    private func stuckReaders() throws {
        let count = 100
        let stuckSeconds = ctx.short ? 20.0 : 30.0
        let bound = ctx.options.stuckRSSBound
        Say.line("")
        Say.timed("== stuck readers: \(count) clients on `*` stop reading for \(Int(stuckSeconds)) s, then read until the close frame; server defaults; RSS growth bound \(mib(bound)) ==")
        let server = try FaultServer(arguments: [], logPath: ctx.serverLog("stuck"))
        defer { server.stop() }
        let watch = Stopwatch()
        var rss = RSSTrack()
        waitUntil(watch, 2) { rss.sample(server, at: watch.seconds) }
        server.waitForRetainedHistory { rss.sample(server, at: watch.seconds) }
        let baseline = server.residentBytes
        let stuck = ProbeFleet(name: "fault-stuck", symbolCount: ctx.universe.count)
        defer { stuck.closeAll() }
        let ids = stuck.open(port: server.port, targets: Array(repeating: "/v1/stream?symbols=*", count: count), after: .paused)
        guard stuck.waitReady(count, timeout: 20), stuck.readyCount.load(ordering: .relaxed) == count else {
            throw BenchError("stuck readers did not all connect: \(stuck.readyCount.load(ordering: .relaxed)) of \(count)")
        }
        let stuckStart = Clock.monotonicNanos()
        let from = watch.seconds
        var peak = baseline, peakAt = 0.0
        var t = 5.0
        while t <= stuckSeconds {
            waitUntil(watch, from + t) {
                let value = rss.sample(server, at: watch.seconds)
                if value > peak { peak = value; peakAt = watch.seconds - from }
            }
            let s = stuck.summaries()
            let noticed = s.filter { $0.pausedEvent != nil }.count
            Say.timed("  stuck t+\(Int(t))s: server RSS \(mib(server.residentBytes)) (baseline \(mib(baseline))), FIN/reset seen by \(noticed) of \(count)\(closeMetrics(server))")
            t += 5
        }
        // Resume: read everything until the close frame (or 10 s).
        let resumedAt = Clock.monotonicNanos()
        stuck.setMode(ids, .full)
        let end = Date().addingTimeInterval(10)
        var results = stuck.summaries()
        while Date() < end && results.contains(where: { $0.closeCode == nil && !$0.isClosed }) {
            usleep(50_000)
            results = stuck.summaries()
        }
        results = stuck.summaries()
        let after = server.residentBytes

        var outcomes: [String: Int] = [:]
        for r in results { outcomes[r.outcome, default: 0] += 1 }
        let before = results.compactMap(\.bytesBeforeClose).sorted()
        let noticed = results.filter { $0.pausedEvent != nil }
        let noticedAt = noticed.map { Double($0.pausedEventAt - stuckStart) / 1e9 }.sorted()
        Say.timed("  on resuming: \(outcomes.sorted { $0.value > $1.value }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")); bytes buffered before the close frame min \(before.first.map(mib) ?? "n/a"), median \(percentile(sorted: before.map(Double.init), 0.5).map { mib(Int($0)) } ?? "n/a"), max \(before.last.map(mib) ?? "n/a")")
        let drained = results.filter { $0.closeCode == nil }.map { $0.bytes - $0.bytesAtResume }.sorted()
        if !drained.isEmpty {
            Say.timed("  \(drained.count) without a close frame read min \(mib(drained.first!)), max \(mib(drained.last!)) after resuming")
        }
        if !noticed.isEmpty {
            Say.timed("  while stuck, \(noticed.count) saw the server's FIN/reset, \(secs(noticedAt.first!))-\(secs(noticedAt.last!)) after they stopped reading")
        }
        let late = results.filter { $0.closeCode != nil }.map { Double($0.closeAt - resumedAt) / 1e9 }.sorted()
        if let last = late.last { Say.timed("  close frames read within \(secs(last)) of resuming; server RSS now \(mib(after))\(closeMetrics(server))") }

        let v = ctx.verdicts
        let got4001 = results.filter { $0.closeCode == 4001 }.count
        v.check(got4001 == count, "stuck readers are closed with 4001 and find the close frame when they read again",
                "\(got4001) of \(count)")
        v.check(peak - baseline <= bound, "server RSS growth with \(count) stuck readers <= \(mib(bound))",
                "baseline \(mib(baseline)), peak \(mib(peak)) at \(secs(peakAt)) after they stopped: +\(mib(peak - baseline))")
    }

    /// ", server counts N slow-consumer closes" from /metrics, if it says.
    private func closeMetrics(_ server: FaultServer) -> String {
        guard let text = server.get("/metrics") else { return "" }
        let value = FaultParsing.metric("ticker_closes_total{code=\"4001\"}", in: text)
            ?? FaultParsing.metric("ticker_slow_consumer_closes_total", in: text)
        return value.map { ", server counts \(Int($0)) closes 4001" } ?? ""
    }
}
