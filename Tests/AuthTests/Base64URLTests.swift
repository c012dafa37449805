import Auth
import Testing

/// Base64url as JWS uses it: RFC 4648 §10 test vectors (in the URL alphabet, unpadded), the
/// URL-only characters, and every kind of refusal.
@Suite struct Base64URLTests {
    @Test func rfc4648Vectors() {
        let vectors = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
                       ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test func urlAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
    }

    @Test(arguments: [
        "Zg==", "Zm8=",          // padding
        "+/+/", "Zm9v/w",        // the standard alphabet's 62 and 63
        "Zm9 v", "Zm9v\n", " Zg", // whitespace
        "Z", "Zm9vY",            // 1 mod 4: no byte boundary
        "Zh", "Zm9",             // nonzero leftover bits (non-canonical "Zg", "Zm8")
        "Zm9v.", "Zé",
    ])
    func refuses(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test func roundTripsEveryLengthAndByte() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(Base64URL.decode(text) == bytes)
        }
        let all = Array(0...255).map { UInt8($0) }
        #expect(Base64URL.decode(Base64URL.encode(all)) == all)
    }
}
