/// The HS256 secrets the verifier accepts, by key id (`kid`), as an operator writes them:
///
///     # comment
///     2025-q1:q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=
///     2025-q2:3q2+7w...
///
/// One `KID:BASE64SECRET` a line (standard base64, padding optional); blank lines and lines
/// starting with `#` are ignored. Several keys at once is how keys rotate: tokens name their
/// key, so a new key is added, issuers move to it, and the old one is removed once its tokens
/// have expired.
public struct AuthKeys: Sendable, Equatable {
    /// RFC 7518 §3.2: an HS256 key MUST be at least as long as the hash output (256 bits).
    /// A short secret is refused here rather than silently weakening every token.
    public static let minSecretBytes = 32
    /// Key ids travel in token headers and appear in logs and error messages, so they are
    /// kept short and plain.
    public static let maxKidBytes = 64

    /// Key ids in file order.
    public private(set) var kids: [String] = []
    private var secrets: [String: [UInt8]] = [:]

    public init(parsing text: String) throws(AuthKeyFileError) {
        var firstLine: [String: Int] = [:]
        var number = 0
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            let line = Self.trimmed(rawLine[...])
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw AuthKeyFileError(line: number, message: "expected KID:BASE64SECRET, found no colon")
            }
            let kidBytes = Self.trimmed(line[..<colon])
            let secretText = Self.trimmed(line[line.index(after: colon)...])
            guard !kidBytes.isEmpty else { throw AuthKeyFileError(line: number, message: "empty kid") }
            guard kidBytes.count <= Self.maxKidBytes, kidBytes.allSatisfy(Self.isKidByte) else {
                throw AuthKeyFileError(
                    line: number,
                    message: "kid may hold only letters, digits, '-', '_' and '.', at most \(Self.maxKidBytes) bytes")
            }
            let kid = String(decoding: kidBytes, as: UTF8.self)
            guard !secretText.isEmpty else { throw AuthKeyFileError(line: number, message: "empty secret for kid '\(kid)'") }
            guard let secret = Base64Codec.decodeStandard(Array(secretText)) else {
                throw AuthKeyFileError(line: number, message: "secret for kid '\(kid)' is not valid base64")
            }
            guard secret.count >= Self.minSecretBytes else {
                throw AuthKeyFileError(
                    line: number,
                    message: "secret for kid '\(kid)' is \(secret.count) bytes; HS256 needs at least \(Self.minSecretBytes)")
            }
            if let first = firstLine[kid] {
                throw AuthKeyFileError(line: number, message: "duplicate kid '\(kid)' (first on line \(first))")
            }
            firstLine[kid] = number
            kids.append(kid)
            secrets[kid] = secret
        }
        guard !kids.isEmpty else { throw AuthKeyFileError(line: 0, message: "no keys") }
    }

    public func secret(for kid: String) -> [UInt8]? {
        secrets[kid]
    }

    private static func isKidByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }

    /// Without surrounding spaces, tabs and a carriage return (files written on Windows).
    private static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        var bytes = bytes
        while let first = bytes.first, isBlank(first) { bytes.removeFirst() }
        while let last = bytes.last, isBlank(last) { bytes.removeLast() }
        return bytes
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
