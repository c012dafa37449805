import Auth
import Testing

/// HMAC-SHA256 against RFC 4231 §4.2–4.8 (test cases 1–7), and the constant-time compare.
@Suite struct HMACSHA256Tests {
    struct Case: Sendable, CustomTestStringConvertible {
        var number: Int
        var key: [UInt8]
        var data: [UInt8]
        var mac: String
        var testDescription: String { "RFC 4231 test case \(number)" }
    }

    static let cases: [Case] = [
        Case(number: 1, key: [UInt8](repeating: 0x0B, count: 20), data: Array("Hi There".utf8),
             mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        // A key shorter than the output.
        Case(number: 2, key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
             mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        Case(number: 3, key: [UInt8](repeating: 0xAA, count: 20), data: [UInt8](repeating: 0xDD, count: 50),
             mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        Case(number: 4, key: Array(1...25), data: [UInt8](repeating: 0xCD, count: 50),
             mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        // Truncated to 128 bits in the RFC: the prefix is compared.
        Case(number: 5, key: [UInt8](repeating: 0x0C, count: 20), data: Array("Test With Truncation".utf8),
             mac: "a3b6167473100ee06e0c796c2955552b"),
        // A 131-byte key: longer than a block, so hashed first.
        Case(number: 6, key: [UInt8](repeating: 0xAA, count: 131),
             data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        Case(number: 7, key: [UInt8](repeating: 0xAA, count: 131),
             data: Array(("This is a test using a larger than block-size key and a larger than block-size data."
                 + " The key needs to be hashed before being used by the HMAC algorithm.").utf8),
             mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: cases)
    func rfc4231(_ testCase: Case) {
        let mac = HMACSHA256.authenticate(testCase.data, key: testCase.key)
        #expect(mac.count == 32)
        let expected = AuthFixtures.hex(testCase.mac)
        #expect(Array(mac.prefix(expected.count)) == expected)
        // Any Collection: slices and lazy views give the same answer.
        #expect(HMACSHA256.authenticate(testCase.data[...], key: testCase.key.lazy.map { $0 }) == mac)
    }

    @Test func aKeyOfExactlyOneBlockIsNotHashed() {
        // 64 bytes is used as is; 65 is hashed. Both differ from each other and are stable.
        let message = Array("m".utf8)
        let block = [UInt8](repeating: 0x11, count: 64)
        #expect(HMACSHA256.authenticate(message, key: block) != HMACSHA256.authenticate(message, key: SHA256.hash(block)))
        let long = [UInt8](repeating: 0x11, count: 65)
        #expect(HMACSHA256.authenticate(message, key: long) == HMACSHA256.authenticate(message, key: SHA256.hash(long)))
    }

    @Test func constantTimeEqualsAnswersLikeEquality() {
        let a: [UInt8] = Array(0..<32)
        #expect(constantTimeEquals(a, a))
        #expect(constantTimeEquals([], []))
        for index in a.indices {
            var b = a
            b[index] ^= 0x80
            #expect(!constantTimeEquals(a, b), "difference at \(index)")
        }
        #expect(!constantTimeEquals(a, Array(a.dropLast())))
        #expect(!constantTimeEquals(a, a + [0]))
    }
}
