import PriceFeed
import Testing

@Suite struct NormalGeneratorTests {
    @Test func momentsAreStandardNormal() {
        var normal = NormalGenerator(base: Xoshiro256StarStar(seed: 42))
        let n = 200_000
        var sum = 0.0
        var sumSquares = 0.0
        var beyondTwoSigma = 0
        for _ in 0..<n {
            let z = normal.nextStandardNormal()
            sum += z
            sumSquares += z * z
            if abs(z) > 2 { beyondTwoSigma += 1 }
        }
        let mean = sum / Double(n)
        #expect(abs(mean) < 0.01)
        #expect(abs(sumSquares / Double(n) - mean * mean - 1) < 0.02)
        // P(|Z| > 2) = 4.55 %.
        #expect(abs(Double(beyondTwoSigma) / Double(n) - 0.0455) < 0.003)
    }

    @Test func sameSeedSameSequence() {
        var a = NormalGenerator(base: Xoshiro256StarStar(seed: 9))
        var b = NormalGenerator(base: Xoshiro256StarStar(seed: 9))
        #expect((0..<101).map { _ in a.nextStandardNormal() } == (0..<101).map { _ in b.nextStandardNormal() })
    }

    @Test func exponentialMeanMatches() {
        var generator = Xoshiro256StarStar(seed: 5)
        let n = 100_000
        var sum = 0.0
        for _ in 0..<n {
            let x = generator.nextExponential(mean: 3)
            #expect(x >= 0 && x.isFinite)
            sum += x
        }
        #expect(abs(sum / Double(n) - 3) < 0.05)
    }
}
