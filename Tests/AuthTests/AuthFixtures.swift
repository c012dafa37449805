import Auth
import Foundation

/// Fixtures/jwt (written by Scripts/gen_jwt_fixtures.py with PyJWT) and helpers that build
/// tokens byte by byte, so a test can sign any header and payload it likes.
enum AuthFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/jwt")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }

    /// The fixture keys: k1 and k2 (keys.txt).
    static func keys() throws -> AuthKeys {
        try AuthKeys(parsing: text("keys.txt"))
    }

    /// The generator's times: `iat` of the fixtures, 2100-01-01 and 2001-09-09.
    static let issuedAt: Int64 = 1_700_000_000
    static let farFuture: Int64 = 4_102_444_800
    static let farPast: Int64 = 1_000_000_000
    /// A "now" at which the fixtures' valid tokens are valid (2024-09-13).
    static let now: Int64 = 1_726_000_000

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    static func hexString(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// One key used by the hand-built tokens below (any 32 bytes will do).
enum TestKey {
    static let kid = "test"
    static let secret: [UInt8] = Array(0..<32).map { UInt8($0) &* 7 &+ 3 }
    static let keys: AuthKeys = try! AuthKeys(parsing: "test:" + standardBase64(secret))

    /// A token over exactly these header and payload texts, correctly signed with `secret`.
    static func token(header: String = #"{"alg":"HS256","typ":"JWT","kid":"test"}"#, payload: String) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(HMACSHA256.authenticate(Array(input.utf8), key: secret))
    }

    static func standardBase64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}

/// The error `body` throws, or nil when it returns.
func tokenError(_ body: () throws(TokenError) -> TokenClaims) -> TokenError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
