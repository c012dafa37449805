import MarketData
import Testing
@testable import TickerClient

/// Every "no gap" check in this suite trusts `SequenceTracker`, so it is
/// itself shown to report what it must and to accept what it must.
@Suite struct SequenceTrackerTests {
    func tick(_ symbol: UInt32, _ sequence: UInt64, _ flags: TickFlags = [], conflated: UInt32 = 0) -> Tick {
        Tick(symbolId: symbol, flags: flags, priceExponent: -2, sequence: sequence, eventTimeNs: 0,
             bid: 1, ask: 2, last: 1, bidSize: 1, askSize: 1, lastSize: 1, conflatedCount: conflated)
    }

    @Test func contiguousStreamsPerSymbolHaveNoGap() {
        var tracker = SequenceTracker()
        for (symbol, seq) in [(0, 41), (1, 7), (0, 42), (1, 8), (0, 43)] as [(UInt32, UInt64)] {
            #expect(tracker.observe(tick(symbol, seq)) == nil, "symbol \(symbol) seq \(seq)")
        }
        #expect(tracker.gaps.isEmpty)
        #expect(tracker.records == 5)
        #expect(tracker.lastSequence(of: 0) == 43)
    }

    @Test func reportsAGap() {
        var tracker = SequenceTracker()
        tracker.observe(tick(3, 10))
        #expect(tracker.observe(tick(3, 12)) == SequenceGap(symbolId: 3, expected: 11, received: 12))
        #expect(tracker.gaps.count == 1)
    }

    @Test func reportsABackwardStep() {
        var tracker = SequenceTracker()
        tracker.observe(tick(0, 10))
        #expect(tracker.observe(tick(0, 9)) == SequenceGap(symbolId: 0, expected: 11, received: 9))
        #expect(tracker.gaps.count == 1)
    }

    @Test func reportsADuplicate() {
        var tracker = SequenceTracker()
        tracker.observe(tick(0, 10))
        #expect(tracker.observe(tick(0, 10)) == SequenceGap(symbolId: 0, expected: 11, received: 10))
        #expect(tracker.gaps.count == 1)
    }

    @Test func aSnapshotResetsTheBaseline() {
        var tracker = SequenceTracker()
        tracker.observe(tick(0, 10))
        #expect(tracker.observe(tick(0, 500, .snapshot)) == nil, "snapshot jumps forward")
        #expect(tracker.observe(tick(0, 501)) == nil)
        #expect(tracker.observe(tick(0, 20, [.snapshot, .conflated], conflated: 4)) == nil, "or back, with both flags")
        #expect(tracker.observe(tick(0, 21)) == nil)
        #expect(tracker.gaps.isEmpty)
    }

    @Test func aCorrectConflatedCountIsAcceptedAndAWrongOneIsNot() {
        var tracker = SequenceTracker()
        tracker.observe(tick(0, 10))
        #expect(tracker.observe(tick(0, 14, .conflated, conflated: 3)) == nil, "10 + 1 + 3")
        #expect(tracker.conflatedUpdates == 3)
        #expect(tracker.observe(tick(0, 20, .conflated, conflated: 3)) == SequenceGap(symbolId: 0, expected: 18, received: 20))
        #expect(tracker.gaps.count == 1)
        #expect(SequenceRule.expected(after: 10, conflatedCount: 3) == 14)
    }

    @Test func resetForgetsASymbol() {
        var tracker = SequenceTracker()
        tracker.observe(tick(0, 10))
        tracker.reset(symbolId: 0)
        #expect(tracker.observe(tick(0, 99)) == nil, "first record after reset is a baseline")
        #expect(tracker.gaps.isEmpty)
    }
}
