import MarketData
import Testing
@testable import FanoutHub

@Suite struct TickHistoryTests {
    private func history(retentionNanos: UInt64 = 10_000, maxTicks: Int = 1_000) -> TickHistory {
        TickHistory(symbolCount: 3, retentionNanos: retentionNanos, maxTicks: maxTicks)
    }

    @Test func replaysExactlyTheUpdatesAfterTheGivenSequence() {
        let h = history()
        h.append(batch([tick(0, 1), tick(1, 1)]), nowNanos: 0)
        h.append(batch([tick(0, 2)]), nowNanos: 1)
        h.append(batch([tick(0, 3), tick(1, 2), tick(0, 4)]), nowNanos: 2)
        #expect(h.replay(symbol: 0, after: 1, newest: 4, limit: 100)?.map(\.sequence) == [2, 3, 4])
        #expect(h.replay(symbol: 0, after: 0, newest: 4, limit: 100)?.map(\.sequence) == [1, 2, 3, 4])
        #expect(h.replay(symbol: 1, after: 1, newest: 2, limit: 100)?.map(\.sequence) == [2])
        #expect(h.replay(symbol: 0, after: 4, newest: 4, limit: 100) == [], "up to date: nothing to send, still resumed")
        #expect(h.replay(symbol: 0, after: 5, newest: 4, limit: 100) == nil, "ahead of this server: another stream")
        #expect(h.replay(symbol: 0, after: 1, newest: 4, limit: 2) == nil, "over the budget: reset")
    }

    @Test func evictedUpdatesMakeAResumeAReset() {
        let h = history(retentionNanos: 10)
        h.append(batch([tick(0, 1)]), nowNanos: 0)
        h.append(batch([tick(0, 2)]), nowNanos: 5)
        h.append(batch([tick(0, 3)]), nowNanos: 12)   // evicts the batch of t=0
        #expect(h.retainedBatches == 2)
        #expect(h.replay(symbol: 0, after: 0, newest: 3, limit: 100) == nil, "seq 1 is gone")
        #expect(h.replay(symbol: 0, after: 1, newest: 3, limit: 100)?.map(\.sequence) == [2, 3])
    }

    @Test func theTickCapBoundsMemoryWhateverTheRate() {
        let h = history(retentionNanos: .max, maxTicks: 4)
        for seq in 1...10 as ClosedRange<UInt64> { h.append(batch([tick(0, seq), tick(1, seq)]), nowNanos: seq) }
        #expect(h.retainedTicks <= 4)
        #expect(h.replay(symbol: 0, after: 8, newest: 10, limit: 100)?.map(\.sequence) == [9, 10])
        #expect(h.replay(symbol: 0, after: 5, newest: 10, limit: 100) == nil)
    }

    @Test func aSnapshotFlaggedTickEndsItsSymbolsHistory() {
        // A gateway whose feed restarted publishes the new run's ticks flagged
        // snapshot: the old run's higher sequences must never be replayed.
        let h = history()
        for seq in 1...50 as ClosedRange<UInt64> { h.append(batch([tick(0, seq), tick(1, seq)]), nowNanos: seq) }
        var reset = tick(0, 3)
        reset.flags = .snapshot
        h.append(batch([reset]), nowNanos: 60)
        h.append(batch([tick(0, 4), tick(1, 51)]), nowNanos: 61)
        h.append(batch([tick(0, 5)]), nowNanos: 62)
        #expect(h.replay(symbol: 0, after: 3, newest: 5, limit: 100)?.map(\.sequence) == [4, 5])
        #expect(h.replay(symbol: 0, after: 40, newest: 5, limit: 100) == nil, "an old-run position is not served")
        #expect(h.replay(symbol: 0, after: 2, newest: 5, limit: 100)?.map(\.sequence) == [3, 4, 5],
                "crossing the reset replays the snapshot itself, a baseline")
        #expect(h.replay(symbol: 1, after: 49, newest: 51, limit: 100)?.map(\.sequence) == [50, 51], "other symbols untouched")
    }

    @Test func aConflatedRecordIsReplayedAsTheDeclaredGapItWas() {
        let h = history()
        h.append(batch([tick(0, 1)]), nowNanos: 0)
        var folded = tick(0, 5)
        folded.flags = .conflated
        folded.conflatedCount = 3   // swallowed 2, 3, 4
        h.append(batch([folded]), nowNanos: 1)
        h.append(batch([tick(0, 6)]), nowNanos: 2)
        #expect(h.replay(symbol: 0, after: 1, newest: 6, limit: 100)?.map(\.sequence) == [5, 6])
        // A client standing inside the folded range cannot continue from it.
        #expect(h.replay(symbol: 0, after: 3, newest: 6, limit: 100) == nil)
    }

    @Test func hubResumesFromHistoryWithoutASnapshotAndResetsWhatItCannotServe() throws {
        var settings = HubSettings()
        settings.retentionNanos = 1_000
        let hub = LoopHub(symbolCount: 3, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 1, nowNanos: 0)
        _ = hub.publish(batch([tick(0, 2), tick(1, 2)]), sendTimeNs: 1, nowNanos: 1)
        _ = hub.publish(batch([tick(0, 3)]), sendTimeNs: 1, nowNanos: 2)
        var report = ResumedIDs()
        let outcome = hub.subscribe(s, to: [0, 1, 2], from: [0: 1, 1: 7], sendTimeNs: 9) { _, ids in report = ids }
        #expect(outcome == .subscribed([0, 1, 2]))
        #expect(report == ResumedIDs(resumed: [0], reset: [1]))
        let records = try decodeStream(drainAll(s)).flatMap { $0 }
        // Symbol 0: seq 2 and 3 as ordinary records; symbol 1: a snapshot; symbol 2 never ticked.
        #expect(records.filter { $0.symbolId == 0 }.map(\.sequence) == [2, 3])
        #expect(records.filter { $0.symbolId == 0 }.allSatisfy { $0.flags.isEmpty })
        #expect(records.filter { $0.symbolId == 1 }.map(\.flags) == [.snapshot])
        // Live continues at 4, no duplicate, no hole.
        _ = hub.publish(batch([tick(0, 4)]), sendTimeNs: 1, nowNanos: 3)
        #expect(try decodeStream(drainAll(s)).flatMap { $0 }.map(\.sequence) == [4])
    }

    @Test func withRetentionOffEveryResumeIsAReset() {
        var settings = HubSettings()
        settings.retentionNanos = 0
        let hub = LoopHub(symbolCount: 1, settings: settings)
        #expect(hub.history == nil)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 1, nowNanos: 0)
        var report = ResumedIDs()
        _ = hub.subscribe(s, to: [0], from: [0: 0], sendTimeNs: 9) { _, ids in report = ids }
        #expect(report == ResumedIDs(resumed: [], reset: [0]))
    }
}
