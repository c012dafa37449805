import Testing
@testable import MarketData

/// Ownership and the sequence rule of ingest, one message at a time.
@Suite struct IngestLedgerTests {
    func tick(_ symbol: UInt32, _ sequence: UInt64) -> Tick {
        Tick(symbolId: symbol, priceExponent: -2, sequence: sequence, eventTimeNs: 0, bid: 1, ask: 2, last: 1,
             bidSize: 1, askSize: 1, lastSize: 1)
    }

    func refusal(_ ledger: inout IngestLedger, _ ticks: [Tick], from owner: Int) -> IngestRejection? {
        do {
            try ledger.admit(ticks, from: owner)
            return nil
        } catch {
            return error
        }
    }

    @Test func firstSequenceIsFreeThenStrictlyContiguous() {
        var ledger = IngestLedger(symbolCount: 4, feedOwnsAll: false)
        #expect(refusal(&ledger, [tick(0, 1_000)], from: 1) == nil, "any first sequence")
        #expect(refusal(&ledger, [tick(0, 1_001), tick(0, 1_002)], from: 1) == nil)
        #expect(ledger.lastSequence(of: 0) == 1_002)

        let duplicate = refusal(&ledger, [tick(0, 1_002)], from: 1)
        #expect(duplicate?.reason == .sequenceStale)
        #expect(duplicate?.detail.contains("expected sequence 1003") == true)
        #expect(refusal(&ledger, [tick(0, 5)], from: 1)?.reason == .sequenceStale, "backwards")
        let jump = refusal(&ledger, [tick(0, 1_005)], from: 1)
        #expect(jump?.reason == .sequenceGap)
        #expect(jump?.detail == "expected sequence 1003, got 1005: 2 updates would be missing")
        #expect(jump?.recordIndex == 0)
        #expect(jump?.symbolId == 0)
        #expect(refusal(&ledger, [tick(0, 1_003)], from: 1) == nil, "refusals changed nothing")
    }

    @Test func sequenceRangeIsEnforcedByTheLedgerToo() {
        var ledger = IngestLedger(symbolCount: 2, feedOwnsAll: false)
        #expect(refusal(&ledger, [tick(0, 0)], from: 1)?.reason == .sequenceRange)
        #expect(refusal(&ledger, [tick(0, .max)], from: 1)?.reason == .sequenceRange)
        #expect(refusal(&ledger, [tick(0, IngestValidator.maxSequence)], from: 1) == nil)
        #expect(refusal(&ledger, [tick(0, IngestValidator.maxSequence + 1)], from: 1)?.reason == .sequenceRange,
                "the sequence space ends at 2^53")
    }

    @Test func aMessageIsAdmittedWholeOrNotAtAll() {
        var ledger = IngestLedger(symbolCount: 4, feedOwnsAll: false)
        #expect(refusal(&ledger, [tick(0, 1), tick(1, 1)], from: 1) == nil)
        // Records 0 and 1 are fine on their own; record 2 jumps.
        let r = refusal(&ledger, [tick(0, 2), tick(2, 1), tick(0, 3), tick(1, 5)], from: 1)
        #expect(r?.reason == .sequenceGap)
        #expect(r?.recordIndex == 3)
        #expect(ledger.lastSequence(of: 0) == 1, "record 0 rolled back")
        #expect(ledger.lastSequence(of: 2) == 0, "record 1 rolled back")
        #expect(ledger.owner(of: 2) == nil, "its claim too")
        #expect(refusal(&ledger, [tick(0, 2), tick(2, 1), tick(0, 3), tick(1, 2)], from: 1) == nil)
        #expect(refusal(&ledger, [tick(3, 1), tick(3, 3)], from: 1)?.recordIndex == 1, "within one message too")
        #expect(ledger.owner(of: 3) == nil)
    }

    /// The server admits each message as a slice of one per-read array:
    /// indices in a refusal count within the message, not the array.
    @Test func aSliceIsOneMessage() {
        var ledger = IngestLedger(symbolCount: 4, feedOwnsAll: false)
        let gathered = [tick(0, 1), tick(1, 1), tick(1, 2), tick(1, 4)]
        #expect(throws: Never.self) { try ledger.admit(gathered[0..<2], from: 1) }
        do {
            try ledger.admit(gathered[2...], from: 1)
            Issue.record("a gap was admitted")
        } catch {
            #expect(error.reason == .sequenceGap)
            #expect(error.recordIndex == 1)
        }
        #expect(ledger.lastSequence(of: 1) == 1, "the refused message left nothing behind")
    }

    @Test func oneOwnerPerSymbolUntilReleased() {
        var ledger = IngestLedger(symbolCount: 4, feedOwnsAll: false)
        #expect(refusal(&ledger, [tick(0, 1), tick(1, 1)], from: 10) == nil)
        #expect(ledger.owner(of: 0) == 10)
        let second = refusal(&ledger, [tick(2, 1), tick(1, 2)], from: 20)
        #expect(second?.reason == .symbolOwned)
        #expect(second?.recordIndex == 1)
        #expect(ledger.owner(of: 2) == nil, "the refused message claimed nothing")
        #expect(refusal(&ledger, [tick(2, 1)], from: 20) == nil, "a free symbol is claimable")

        #expect(ledger.release(10) == 2)
        #expect(ledger.owner(of: 0) == nil)
        // The stream continues where the previous owner left it.
        #expect(refusal(&ledger, [tick(1, 1)], from: 20)?.reason == .sequenceStale)
        #expect(refusal(&ledger, [tick(1, 3)], from: 20)?.reason == .sequenceGap)
        #expect(refusal(&ledger, [tick(1, 2)], from: 20) == nil)
        #expect(ledger.owner(of: 1) == 20)
        #expect(ledger.release(10) == 0)
    }

    @Test func theSimulatedFeedOwnsEverything() {
        var ledger = IngestLedger(symbolCount: 4, feedOwnsAll: true)
        let r = refusal(&ledger, [tick(2, 1)], from: 1)
        #expect(r?.reason == .symbolOwned)
        #expect(r?.symbolId == 2)
        #expect(r?.detail.contains("--no-feed") == true)
        #expect(ledger.owner(of: 2) == nil)
    }
}
