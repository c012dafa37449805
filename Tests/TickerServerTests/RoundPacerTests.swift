import PosixIO
import Testing
@testable import TickerServer

@Suite struct RoundPacerTests {
    let began = Instant(nanoseconds: 1_000_000_000)

    @Test func unpacedUntilARoundIsWritten() {
        let pacer = RoundPacer()
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.mayStartRound(at: began))
    }

    @Test func aSaturatedLoopWaitsTwiceItsWritingTime() {
        var pacer = RoundPacer()
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(4), workWaiting: true)
        #expect(pacer.earliestNextRound == began + .milliseconds(8))
        #expect(pacer.interval(since: began) == .milliseconds(8))
        #expect(!pacer.mayStartRound(at: began + .milliseconds(7)))
        #expect(pacer.mayStartRound(at: began + .milliseconds(8)))
    }

    @Test func nothingWaitingMeansTheNextRoundGoesAtOnce() {
        // A closed-loop publisher or a lone update: the pass ended with an
        // empty inbox, however long it was.
        var pacer = RoundPacer()
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(10), workWaiting: false)
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.interval(since: began) == .zero)
    }

    @Test func shortWritesNeverPace() {
        var pacer = RoundPacer()
        let short = Nanoseconds(RoundPacer.minPacedPass.rawValue - 1)
        pacer.passFinished(roundBegan: began, sendTime: short, workWaiting: true)
        #expect(pacer.earliestNextRound == nil)
        pacer.passFinished(roundBegan: began, sendTime: RoundPacer.minPacedPass, workWaiting: true)
        #expect(pacer.earliestNextRound == began + Nanoseconds(RoundPacer.minPacedPass.rawValue * RoundPacer.stretch))
    }

    @Test func theIntervalIsCapped() {
        var pacer = RoundPacer()
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(40), workWaiting: true)
        #expect(pacer.earliestNextRound == began + RoundPacer.maxInterval)
        // The cap stays inside the inbox's freshness limit, so pacing alone never folds a loop's ticks.
        #expect(RoundPacer.maxInterval.rawValue < LoopInbox.behindNanos)
    }

    @Test func aLighterRoundUnpacesTheNext() {
        var pacer = RoundPacer()
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(5), workWaiting: true)
        #expect(pacer.earliestNextRound != nil)
        let later = began + .milliseconds(10)
        pacer.passFinished(roundBegan: later, sendTime: Nanoseconds(200_000), workWaiting: true)
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.mayStartRound(at: later))
    }
}
