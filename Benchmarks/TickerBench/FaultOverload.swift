import BenchSupport
import Foundation
import MarketData
import PosixIO

/// 2. Feed faster than the machine (`--interval-ms 0.1`): a 1-symbol canary
/// alone, then with a crowd subscribed to `*`; RSS every second under the
/// bound, the canary's data never over 1 s old, the sequence rule on every
/// record of the canary and of a sample of the crowd.
struct OverloadScenario {
    let ctx: FaultContext
    init(_ ctx: FaultContext) { self.ctx = ctx }

    func run() throws {
        let phaseSeconds = ctx.seconds(full: 120, short: 20)
        let starCount = ctx.count(full: 2_000, short: 200)
        let sampleCount = min(starCount, ctx.short ? 10 : 20)
        let bound = ctx.options.rssBound
        let canarySymbol = ctx.universe[0].symbol
        try FileLimit.require(starCount + 50, for: "the overload crowd")
        Say.line("")
        Say.timed("== overload: --interval-ms 0.1; canary (\(canarySymbol)) alone, then + \(starCount) clients on `*` (\(sampleCount) of them checked record by record); \(Int(phaseSeconds)) s per phase; RSS bound \(mib(bound)) ==")
        let server = try FaultServer(arguments: ["--interval-ms", "0.1"], logPath: ctx.serverLog("overload"))
        defer { server.stop() }
        let watch = Stopwatch()
        var rss = RSSTrack()
        var overBound: [String] = []
        @discardableResult
        func sampleRSS() -> Int {
            let value = rss.sample(server, at: watch.seconds)
            if value >= bound { overBound.append("\(mib(value)) at t=\(secs(watch.seconds))") }
            return value
        }

        let canary = ProbeFleet(name: "fault-canary", symbolCount: ctx.universe.count, checkSequence: true)
        defer { canary.closeAll() }
        canary.open(port: server.port, targets: ["/v1/stream?symbols=\(canarySymbol)"])
        canary.startTimer(milliseconds: 50)
        guard canary.waitReady(1, timeout: 15), canary.readyCount.load(ordering: .relaxed) == 1 else {
            throw BenchError("canary did not connect: \(canary.summaries().map(\.outcome))")
        }

        // Phase A: canary alone.
        _ = canary.takeWindow()
        let aStart = watch.seconds
        var phaseA = ProbeWindow()
        let rssA0 = rss.peak
        var t = 1.0
        while t <= phaseSeconds && server.isRunning {
            waitUntil(watch, aStart + t, step: 1) { sampleRSS() }
            let w = canary.takeWindow()
            phaseA.records += w.records
            phaseA.maxAgeNs = max(phaseA.maxAgeNs, w.maxAgeNs)
            phaseA.maxStaleNs = max(phaseA.maxStaleNs, w.maxStaleNs)
            if Int(t) % 10 == 0 || t == phaseSeconds {
                Say.timed("  A t+\(Int(t))s: server RSS \(mib(server.residentBytes)), canary \(w.records) records/s, max age \(ms(w.maxAgeNs)), max staleness \(ms(w.maxStaleNs))")
            }
            t += 1
        }
        let peakA = max(rss.peak, rssA0)
        let overBoundA = overBound
        overBound = []
        let canaryA = canary.summaries()[0]

        // Phase B: + the `*` crowd.
        let bStart = watch.seconds
        let sample = ProbeFleet(name: "fault-sample", symbolCount: ctx.universe.count, checkSequence: true)
        defer { sample.closeAll() }
        _ = sample.sync { setThreadNice(10) }
        let crowd = Fleet(symbolCount: ctx.universe.count)
        defer { crowd.closeAll() }
        _ = crowd.sync { setThreadNice(10) }
        sample.open(port: server.port, targets: Array(repeating: "/v1/stream?symbols=*", count: sampleCount))
        var peakB = sampleRSS()
        let crowdReady = openCrowd(crowd, port: server.port, queries: Array(repeating: "symbols=*", count: starCount - sampleCount),
                                   timeout: ctx.short ? 20 : 60) { peakB = max(peakB, sampleRSS()) }
        _ = sample.waitReady(sampleCount, timeout: 10)
        let sampleReady = sample.readyCount.load(ordering: .relaxed)
        Say.timed("  B: \(crowdReady + sampleReady) of \(starCount) `*` clients ready after \(secs(watch.seconds - bStart))")
        var phaseB = ProbeWindow()
        t = 1.0
        let bMeasure = watch.seconds
        // The canary window since phase B began counts the connecting crowd too.
        while t <= phaseSeconds && server.isRunning {
            waitUntil(watch, bMeasure + t, step: 1) { peakB = max(peakB, sampleRSS()) }
            let w = canary.takeWindow()
            phaseB.records += w.records
            phaseB.maxAgeNs = max(phaseB.maxAgeNs, w.maxAgeNs)
            phaseB.maxStaleNs = max(phaseB.maxStaleNs, w.maxStaleNs)
            if Int(t) % 10 == 0 || t == phaseSeconds {
                Say.timed("  B t+\(Int(t))s: server RSS \(mib(server.residentBytes)), canary \(w.records) records/s, max age \(ms(w.maxAgeNs)), max staleness \(ms(w.maxStaleNs)), crowd \(crowd.counters.records.load(ordering: .relaxed)) records so far")
            }
            t += 1
        }
        let canaryB = canary.summaries()[0]
        let samples = sample.summaries()
        let crowdResult = crowd.result()

        let v = ctx.verdicts
        func over(_ list: [String]) -> String {
            list.isEmpty ? "" : "; \(list.count) samples over, first: \(list.prefix(3).joined(separator: ", "))"
        }
        v.check(peakA < bound, "server RSS < \(mib(bound)) every second, canary alone", "peak \(mib(peakA))" + over(overBoundA))
        v.check(peakB < bound, "server RSS < \(mib(bound)) every second, with \(starCount) `*` clients",
                "peak \(mib(peakB))" + over(overBound))
        for (name, w, summary) in [("alone", phaseA, canaryA), ("with the crowd", phaseB, canaryB)] {
            let worst = max(w.maxAgeNs, w.maxStaleNs)
            v.check(w.records > 0 && worst <= 1_000_000_000 && !summary.isClosed, "canary data never > 1 s old (\(name))",
                    "\(w.records) records, max age at receipt \(ms(w.maxAgeNs)), max staleness \(ms(w.maxStaleNs))"
                    + (summary.isClosed ? ", closed: \(summary.outcome)" : ""))
        }
        let canaryCheck = canaryB.check ?? StrictSequenceCheck(symbolCount: 0)
        v.check(canaryCheck.violations == 0 && canaryCheck.records > 0, "canary: every record obeys the sequence rule",
                "\(canaryCheck.records) records (\(canaryCheck.conflatedRecords) conflated, \(canaryCheck.swallowed) updates declared skipped), violations \(canaryCheck.violationSummary)")
        var seq = StrictSequenceCheck(symbolCount: 0)
        for s in samples { if let c = s.check { seq.absorbCounts(c) } }
        let closedSamples = samples.filter(\.isClosed)
        v.check(seq.violations == 0 && seq.records > 0, "sample of \(sampleCount) `*` clients: every record obeys the sequence rule",
                "\(seq.records) records (\(seq.conflatedRecords) conflated), violations \(seq.violationSummary)"
                + (closedSamples.isEmpty ? "" : "; \(closedSamples.count) closed: \(closedSamples.prefix(3).map(\.outcome).joined(separator: ", "))"))
        let ledger = crowdResult.ledger
        v.check(ledger.isClean, "the other \(starCount - sampleCount) `*` clients: no sequence gap (SequenceLedger)",
                "\(ledger.records) records, gaps \(ledger.gaps) (\(ledger.missing) missing), dup \(ledger.duplicates), reordered \(ledger.reordered)")
    }
}
