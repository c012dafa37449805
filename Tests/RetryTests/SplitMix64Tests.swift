import SplitMix
import Testing

@Suite struct SplitMix64Tests {
    @Test func matchesPublishedOutputsForSeedZero() {
        var generator = SplitMix64(seed: 0)
        #expect((0..<4).map { _ in generator.next() } == [
            0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC,
        ])
    }

    @Test func knownOutputsForSeed42() {
        // Computed once with an independent Python transcription of splitmix64.c.
        var generator = SplitMix64(seed: 42)
        #expect((0..<2).map { _ in generator.next() } == [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103])
    }
}
