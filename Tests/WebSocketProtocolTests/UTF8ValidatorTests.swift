import TestSupport
import Testing
import WebSocketProtocol

@Suite struct UTF8ValidatorTests {
    private func validate(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(bytes) && validator.isComplete
    }

    @Test func acceptsValidText() {
        #expect(validate(Array("Hello-µ@ßöäüàá-UTF-8!!".utf8)))
        #expect(validate(Array("κόσμε 𝄞 \u{10FFFF} \u{FFFF} \u{D7FF} \u{E000}".utf8)))
        #expect(validate([]))
    }

    @Test(arguments: [
        [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], // overlong "/"
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], // UTF-16 surrogates
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], // above U+10FFFF
        [0x80], [0xBF], [0xFE], [0xFF], // stray continuation, never-valid bytes
        [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64],
    ] as [[UInt8]])
    func rejectsInvalid(_ bytes: [UInt8]) {
        #expect(!validate(bytes))
    }

    @Test func incompleteSequenceIsNotComplete() {
        var validator = UTF8Validator()
        let prefixAccepted = validator.feed([0xF0, 0x9D, 0x84])
        #expect(prefixAccepted)
        #expect(!validator.isComplete)
        let lastAccepted = validator.feed([0x9E])
        #expect(lastAccepted)
        #expect(validator.isComplete)
    }

    @Test func stateCarriesAcrossEverySplit() {
        let text = Array("aé€𝄞z".utf8)
        for chunking in SplitFeeding.chunkings(of: text, maxChunk: 3) {
            var validator = UTF8Validator()
            let allFed = chunking.chunks.allSatisfy { validator.feed($0) }
            #expect(allFed && validator.isComplete, "\(chunking.name)")
        }
    }

    @Test func failsOnTheFirstInvalidByteNotAtTheEnd() {
        var validator = UTF8Validator()
        let prefixAccepted = validator.feed(Array("ok ".utf8))
        #expect(prefixAccepted)
        // ED A0 starts a surrogate: invalid whatever follows, so it fails before the third byte.
        let surrogateAccepted = validator.feed([0xED, 0xA0])
        #expect(!surrogateAccepted)
    }

    @Test func resetClearsAPendingSequence() {
        var validator = UTF8Validator()
        let prefixAccepted = validator.feed([0xE2, 0x82])
        #expect(prefixAccepted)
        validator.reset()
        #expect(validator.isComplete)
        let strayRejected = validator.feed([0x80]) == false
        #expect(strayRejected, "after reset a lone continuation byte is invalid again")
    }
}
