import Retry
import SplitMix
import Testing

@Suite struct ExponentialBackoffTests {
    @Test func doublesFromTheInitialDelayUpToTheCap() {
        let b = ExponentialBackoff(initialNanos: 100, maxNanos: 1_000, multiplier: 2, jitter: 0)
        #expect((0..<6).map { b.delayNanos(attempt: $0, unit: 0.7) } == [100, 200, 400, 800, 1_000, 1_000])
        #expect(b.baseNanos(attempt: 10_000) == 1_000, "no overflow however many attempts")
    }

    @Test func jitterTakesUpToItsFractionOff() {
        let b = ExponentialBackoff(initialNanos: 1_000, maxNanos: 1_000, jitter: 0.5)
        #expect(b.delayNanos(attempt: 0, unit: 0) == 1_000)
        #expect(b.delayNanos(attempt: 0, unit: 0.5) == 750)
        #expect(b.delayNanos(attempt: 0, unit: 0.999_999) == 500)
        let full = ExponentialBackoff(initialNanos: 1_000, maxNanos: 1_000, jitter: 1)
        #expect(full.delayNanos(attempt: 0, unit: 0.25) == 750)
    }

    @Test func defaultsAreSane() {
        let b = ExponentialBackoff()
        #expect(b.baseNanos(attempt: 0) == 100_000_000)
        #expect(b.baseNanos(attempt: 20) == 10_000_000_000)
    }

    @Test func aDrawFromAGeneratorIsAUnitDraw() {
        let b = ExponentialBackoff(initialNanos: 1_000, maxNanos: 1_000, jitter: 0.5)
        var random = SplitMix64(seed: 3)
        var copy = random
        let unit = Double(copy.next() >> 11) / Double(UInt64(1) << 53)
        #expect(b.delayNanos(attempt: 0, using: &random) == b.delayNanos(attempt: 0, unit: unit))
    }
}

/// The Redis link's waits: equal jitter over the same back-off, seeded.
@Suite struct RetryDelaysTests {
    @Test func growsExponentiallyWithinJitterBoundsUpToTheCap() {
        var delays = RetryDelays(ExponentialBackoff(initialNanos: 100, maxNanos: 1_000), seed: 7)
        let steps: [UInt64] = [100, 200, 400, 800, 1_000, 1_000, 1_000]
        for step in steps {
            #expect(delays.stepNanos == step)
            let delay = delays.nextDelayNanos()
            #expect(delay >= step / 2 && delay <= step, "delay \(delay) for step \(step)")
        }
        delays.reset()
        #expect(delays.attempt == 0)
        #expect(delays.stepNanos == 100)
    }

    @Test func jitterSpreadsAFleetAndIsReproducible() {
        func firstDelays(seed: UInt64) -> [UInt64] {
            var delays = RetryDelays(ExponentialBackoff(initialNanos: 1_000_000, maxNanos: 1_000_000), seed: seed)
            return (0..<8).map { _ in delays.nextDelayNanos() }
        }
        #expect(firstDelays(seed: 1) == firstDelays(seed: 1))
        let fleet = (1...20).map { firstDelays(seed: $0)[0] }
        #expect(Set(fleet).count > 15, "20 gateways should not retry in lockstep")
    }

    @Test func hugeAttemptCountsDoNotOverflow() {
        var delays = RetryDelays(ExponentialBackoff(initialNanos: .max / 2, maxNanos: .max), seed: 1)
        for _ in 0..<100 { _ = delays.nextDelayNanos() }
        #expect(delays.stepNanos == .max)
    }
}
