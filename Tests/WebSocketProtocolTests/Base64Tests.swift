import Testing
import WebSocketProtocol

@Suite struct Base64Tests {
    /// RFC 4648 §10 test vectors.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors) func encodes(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
    }

    @Test(arguments: vectors) func decodes(plain: String, encoded: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func roundTripsAllByteValues() {
        let bytes = (0...255).map { UInt8($0) }
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
    }

    @Test(arguments: [
        "Zg", "Zg=", "Zm9", // missing padding
        "Z===", "=Zg=", "Zg==Zg==", "Zm=v", // padding in the wrong place
        "Zm9v!A==", "Zm9 v", "Zm9v\n", "Zm9-", "Zm9_", // outside the standard alphabet
        "Zh==", "Zm9=", // non-zero bits hidden by padding
    ])
    func rejects(_ input: String) {
        #expect(Base64.decode(input) == nil)
    }
}
