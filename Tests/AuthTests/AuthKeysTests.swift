import Auth
import Foundation
import Testing

/// The key file: `KID:BASE64SECRET` a line, comments and blank lines, rotation, and one
/// refusal per kind of bad line, each naming its line and never the secret.
@Suite struct AuthKeysTests {
    /// 32 distinct bytes per key, and their standard base64 with padding.
    static func secret(_ seed: UInt8) -> [UInt8] { (0..<32).map { UInt8($0) &* 5 &+ seed } }
    static func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    @Test func twoKeysWithCommentsAndBlankLines() throws {
        let text = """
            # ticker keys, rotated quarterly

            2025-q1:\(Self.b64(Self.secret(1)))
              # indented comment
            \t
            2025-q2 : \(Self.b64(Self.secret(2)).replacingOccurrences(of: "=", with: ""))\r

            """
        let keys = try AuthKeys(parsing: text)
        #expect(keys.kids == ["2025-q1", "2025-q2"])
        #expect(keys.secret(for: "2025-q1") == Self.secret(1))
        #expect(keys.secret(for: "2025-q2") == Self.secret(2))
        #expect(keys.secret(for: "2025-q3") == nil)
        #expect(keys == (try AuthKeys(parsing: "2025-q1:\(Self.b64(Self.secret(1)))\n2025-q2:\(Self.b64(Self.secret(2)))")))
    }

    @Test func fixtureKeysLoad() throws {
        let keys = try AuthFixtures.keys()
        #expect(keys.kids == ["k1", "k2"])
        #expect(keys.secret(for: "k1")?.count == 32)
        #expect(keys.secret(for: "k2")?.count == 32)
    }

    @Test func secretsMayBeLongerThanAHashBlock() throws {
        let long = [UInt8](repeating: 0x5A, count: 100)
        #expect(try AuthKeys(parsing: "big:" + Self.b64(long)).secret(for: "big") == long)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var file: String
        var line: Int
        var message: String
        var testDescription: String { message }
    }

    static let good = "ok:" + b64(secret(9))
    static let bad: [Bad] = [
        Bad(file: "# keys\n" + b64(secret(3)), line: 2, message: "expected KID:BASE64SECRET, found no colon"),
        Bad(file: good + "\n\n :" + b64(secret(3)), line: 3, message: "empty kid"),
        Bad(file: "k 1:" + b64(secret(3)), line: 1,
            message: "kid may hold only letters, digits, '-', '_' and '.', at most 64 bytes"),
        Bad(file: String(repeating: "k", count: 65) + ":" + b64(secret(3)), line: 1,
            message: "kid may hold only letters, digits, '-', '_' and '.', at most 64 bytes"),
        Bad(file: good + "\nk2:not*base64*at*all*AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", line: 2,
            message: "secret for kid 'k2' is not valid base64"),
        // Padding where the length needs none, and too much of it.
        Bad(file: "k2:" + b64(secret(3)) + "=", line: 1, message: "secret for kid 'k2' is not valid base64"),
        Bad(file: "k2:" + b64(Array(secret(3).prefix(31))) + "===", line: 1, message: "secret for kid 'k2' is not valid base64"),
        Bad(file: "k2:" + String(b64(Array(secret(3).prefix(33))).dropLast(2)) + "===", line: 1,
            message: "secret for kid 'k2' is not valid base64"),
        Bad(file: good + "\nk2:   ", line: 2, message: "empty secret for kid 'k2'"),
        Bad(file: "k2:c2VjcmV0", line: 1, message: "secret for kid 'k2' is 6 bytes; HS256 needs at least 32"),
        Bad(file: good + "\n# again\nok:" + b64(secret(4)), line: 3, message: "duplicate kid 'ok' (first on line 1)"),
        Bad(file: "", line: 0, message: "no keys"),
        Bad(file: "# only comments\n\n", line: 0, message: "no keys"),
    ]

    @Test(arguments: bad)
    func refuses(_ bad: Bad) {
        #expect(throws: AuthKeyFileError(line: bad.line, message: bad.message)) {
            try AuthKeys(parsing: bad.file)
        }
    }

    @Test func errorsNeverEchoTheSecret() {
        let secretText = "S3cr3tS3cr3tS3cr3tS3cr3t"
        for file in [secretText, "k:" + secretText + "!", "k:" + secretText, "bad kid:" + secretText] {
            do {
                _ = try AuthKeys(parsing: file)
                Issue.record("accepted \(file)")
            } catch {
                #expect(!error.description.contains(secretText))
                #expect(!error.message.contains("S3cr3t"))
            }
        }
    }

    @Test func descriptionNamesTheLine() {
        #expect(AuthKeyFileError(line: 4, message: "empty kid").description == "key file line 4: empty kid")
        #expect(AuthKeyFileError(line: 0, message: "no keys").description == "key file: no keys")
    }
}
