import MarketData
import Testing
@testable import TickerClient

/// A random source that returns a fixed sequence of draws, so every jitter is known.
struct ScriptedRandom: RandomNumberGenerator {
    var units: [Double]
    var at = 0
    mutating func next() -> UInt64 {
        defer { at += 1 }
        // The schedule turns `next() >> 11` into a unit in [0, 1).
        return UInt64(units[at % units.count] * Double(1 << 53)) << 11
    }
}

@Suite struct ReconnectScheduleTests {
    let a = TickerURL(host: "10.0.0.1", port: 8080)
    let b = TickerURL(host: "10.0.0.2", port: 8080)
    let c = TickerURL(host: "10.0.0.3", port: 8080)

    @Test func failedAttemptsFailOverInOrderAndBackOffOnAnInjectedClock() {
        var s = ReconnectSchedule(urls: [a, b, c], backoff: Backoff(initialNanos: 100, maxNanos: 800, jitter: 0.5),
                                  random: ScriptedRandom(units: [0]))
        #expect(s.currentURL == a)
        var now: UInt64 = 1_000
        var plan: [(TickerURL, UInt64)] = []
        for _ in 0..<6 {
            let at = s.attemptFailed(now: now)
            plan.append((s.currentURL, at - now))
            now = at   // the fake clock jumps to the next attempt, which fails too
        }
        #expect(plan.map(\.0) == [b, c, a, b, c, a], "each failure moves to the next URL, round robin")
        #expect(plan.map(\.1) == [100, 200, 400, 800, 800, 800], "delays double to the cap (jitter draw 0)")
        #expect(s.failures == 6)
    }

    @Test func jitterComesFromTheInjectedRandomSource() {
        var s = ReconnectSchedule(urls: [a], backoff: Backoff(initialNanos: 1_000, maxNanos: 1_000, jitter: 0.5),
                                  random: ScriptedRandom(units: [0, 0.5, 0.25]))
        #expect([s.attemptFailed(now: 0), s.attemptFailed(now: 0), s.attemptFailed(now: 0)] == [1_000, 750, 875])
    }

    @Test func anEstablishedSessionResetsTheCountAndKeepsItsURL() {
        var s = ReconnectSchedule(urls: [a, b], backoff: Backoff(initialNanos: 100, maxNanos: 10_000, jitter: 0),
                                  random: ScriptedRandom(units: [0]))
        _ = s.attemptFailed(now: 0)
        _ = s.attemptFailed(now: 0)
        _ = s.attemptFailed(now: 0)          // now on b, 3 failures
        #expect(s.currentURL == b)
        s.sessionEstablished()
        #expect(s.failures == 0)
        // Losing a good session: the same URL again, after the shortest delay.
        #expect(s.sessionLost(now: 5_000) == 5_100)
        #expect(s.currentURL == b)
        // And if that retry fails, the next URL, with the back-off restarted.
        #expect(s.attemptFailed(now: 6_000) == 6_100)
        #expect(s.currentURL == a)
    }
}
