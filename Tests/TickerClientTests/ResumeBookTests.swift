import MarketData
import Testing
@testable import TickerClient

private func tick(_ id: UInt32, _ seq: UInt64, flags: TickFlags = [], conflated: UInt32 = 0) -> Tick {
    Tick(symbolId: id, flags: flags, priceExponent: -2, sequence: seq, eventTimeNs: 0,
         bid: 1, ask: 2, last: 1, bidSize: 1, askSize: 1, lastSize: 1, conflatedCount: conflated)
}

@Suite struct ResumeBookTests {
    let refs = [SymbolRef(symbol: "AAPL", id: 0), SymbolRef(symbol: "MSFT", id: 1)]

    @Test func firstSubscriptionCarriesNoFrom() {
        var book = ResumeBook(symbols: ["AAPL", "MSFT"])
        book.connectionOpened(epoch: 77)
        #expect(book.resubscribeRequest(id: 1) == .subscribe(id: 1, symbols: ["AAPL", "MSFT"]))
        #expect(book.subscribed(refs, report: nil) == [.subscribed(refs)])
    }

    @Test func reconnectResubscribesFromTheLastSequenceSeenWithItsEpoch() {
        var book = ResumeBook(symbols: ["AAPL", "MSFT"])
        book.connectionOpened(epoch: 77)
        _ = book.resubscribeRequest(id: 1)
        _ = book.subscribed(refs, report: nil)
        #expect(book.observe(tick(0, 10, flags: .snapshot)) == nil)
        #expect(book.observe(tick(0, 11)) == nil)
        #expect(book.observe(tick(1, 5, flags: .snapshot)) == nil)
        #expect(book.observe(tick(1, 9, flags: .conflated, conflated: 3)) == nil, "a declared jump is no gap")

        book.connectionOpened(epoch: 77)
        #expect(book.resubscribeRequest(id: 2) == .subscribe(
            id: 2, symbols: ["AAPL", "MSFT"],
            resume: ResumeRequest(points: [ResumePoint(symbol: "AAPL", sequence: 11), ResumePoint(symbol: "MSFT", sequence: 9)],
                                  epoch: 77)))
        let events = book.subscribed(refs, report: ResumeReport(resumed: ["AAPL"], reset: ["MSFT"]))
        #expect(events == [.subscribed(refs), .resumed(["AAPL"]), .reset(symbol: "MSFT")])
        #expect(book.last["MSFT"] == nil, "reset: the next record is a new baseline")
        #expect(book.observe(tick(0, 12)) == nil, "resumed: contiguous")
        #expect(book.observe(tick(1, 40, flags: .snapshot)) == nil)
        #expect(book.observe(tick(1, 41)) == nil)
    }

    @Test func anUndeclaredJumpIsAGapEvent() {
        var book = ResumeBook(symbols: ["AAPL"])
        book.connectionOpened(epoch: 1)
        _ = book.subscribed([refs[0]], report: nil)
        _ = book.observe(tick(0, 1))
        #expect(book.observe(tick(0, 3)) == .gap(symbol: "AAPL", expected: 2, received: 3))
        #expect(book.observe(tick(0, 4)) == nil, "the checker carries on from what it saw")
    }

    @Test func aServerWithoutResumeCountsAsResettingEverySymbolAskedFor() {
        var book = ResumeBook(symbols: ["AAPL"], from: ["AAPL": 100])
        book.connectionOpened(epoch: nil)
        #expect(book.resubscribeRequest(id: 1) == .subscribe(
            id: 1, symbols: ["AAPL"], resume: ResumeRequest(points: [ResumePoint(symbol: "AAPL", sequence: 100)])))
        #expect(book.subscribed([refs[0]], report: nil) == [.subscribed([refs[0]]), .reset(symbol: "AAPL")])
    }

    @Test func unsubscribedSymbolsAreForgottenAndWildcardResumesEverythingKnown() {
        var book = ResumeBook(symbols: ["*"])
        book.connectionOpened(epoch: 5)
        _ = book.resubscribeRequest(id: 1)
        _ = book.subscribed(refs, report: nil)
        _ = book.observe(tick(0, 3))
        _ = book.observe(tick(1, 8))
        book.connectionOpened(epoch: 5)
        guard case .subscribe(_, let symbols, let resume?, _) = book.resubscribeRequest(id: 2) else {
            Issue.record("expected a subscribe with from")
            return
        }
        #expect(symbols == ["*"])
        #expect(resume.points.map(\.symbol) == ["AAPL", "MSFT"])
        book.unsubscribe(["*"])
        #expect(book.resubscribeRequest(id: 3) == nil)
    }
}

@Suite struct ResumeBookIntervalTests {
    /// `*` at 250 ms and one symbol at every tick: on a reconnection the
    /// wildcard goes first (it sets everything held), then the exception.
    @Test func intervalsAreResubscribedWildcardFirst() {
        var book = ResumeBook(symbols: ["*"], intervalMs: 250)
        #expect(book.subscribe(["AAPL"], id: 2, intervalMs: 0) == .subscribe(id: 2, symbols: ["AAPL"]))
        book.connectionOpened(epoch: nil)
        #expect(book.resubscribeRequests(firstID: 7) == [
            .subscribe(id: 7, symbols: ["*"], intervalMs: 250),
            .subscribe(id: 8, symbols: ["AAPL"]),
        ])
    }

    @Test func wildcardSetsTheIntervalOfEverythingHeld() {
        var book = ResumeBook(symbols: ["AAPL", "MSFT"])
        _ = book.subscribe(["MSFT"], id: 1, intervalMs: 500)
        #expect(book.resubscribeRequests(firstID: 1) == [
            .subscribe(id: 1, symbols: ["AAPL"]),
            .subscribe(id: 2, symbols: ["MSFT"], intervalMs: 500),
        ])
        _ = book.subscribe(["*"], id: 3, intervalMs: 100)
        #expect(book.resubscribeRequests(firstID: 4) == [.subscribe(id: 4, symbols: ["*"], intervalMs: 100)])
        book.unsubscribe(["*"])
        #expect(book.intervals.isEmpty)
    }

    @Test func withoutIntervalsOneRequestAsBefore() {
        var book = ResumeBook(symbols: ["AAPL", "MSFT"])
        #expect(book.resubscribeRequests(firstID: 1) == [.subscribe(id: 1, symbols: ["AAPL", "MSFT"])])
    }
}
