import PosixIO
import Testing
@testable import TickerServer

@Suite struct RoundPacerTests {
    let began = Instant(nanoseconds: 1_000_000_000)
    let policy = OverloadPolicy()

    @Test func unpacedUntilARoundIsWritten() {
        let pacer = RoundPacer(policy)
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.mayStartRound(at: began))
    }

    @Test func aSaturatedLoopWaitsTwiceItsWritingTime() {
        var pacer = RoundPacer(policy)
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(4), workWaiting: true)
        #expect(pacer.earliestNextRound == began + .milliseconds(8))
        #expect(pacer.interval(since: began) == .milliseconds(8))
        #expect(!pacer.mayStartRound(at: began + .milliseconds(7)))
        #expect(pacer.mayStartRound(at: began + .milliseconds(8)))
    }

    @Test func nothingWaitingMeansTheNextRoundGoesAtOnce() {
        // A closed-loop publisher or a lone update: the pass ended with an
        // empty inbox, however long it was.
        var pacer = RoundPacer(policy)
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(10), workWaiting: false)
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.interval(since: began) == .zero)
    }

    @Test func shortWritesNeverPace() {
        var pacer = RoundPacer(policy)
        let short = Nanoseconds(policy.pacedWriteMinimum.rawValue - 1)
        pacer.passFinished(roundBegan: began, sendTime: short, workWaiting: true)
        #expect(pacer.earliestNextRound == nil)
        pacer.passFinished(roundBegan: began, sendTime: policy.pacedWriteMinimum, workWaiting: true)
        #expect(pacer.earliestNextRound == began + Nanoseconds(policy.pacedWriteMinimum.rawValue * policy.pacingStretch))
    }

    @Test func theIntervalIsCapped() {
        var pacer = RoundPacer(policy)
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(40), workWaiting: true)
        #expect(pacer.earliestNextRound == began + policy.pacedIntervalMaximum)
        // The cap stays inside the inbox's freshness limit, so pacing alone never folds a loop's ticks.
        #expect(policy.pacedIntervalMaximum.rawValue < policy.inboxLateness.rawValue)
    }

    @Test func aLighterRoundUnpacesTheNext() {
        var pacer = RoundPacer(policy)
        pacer.passFinished(roundBegan: began, sendTime: .milliseconds(5), workWaiting: true)
        #expect(pacer.earliestNextRound != nil)
        let later = began + .milliseconds(10)
        pacer.passFinished(roundBegan: later, sendTime: Nanoseconds(200_000), workWaiting: true)
        #expect(pacer.earliestNextRound == nil)
        #expect(pacer.mayStartRound(at: later))
    }
}
