import Auth
import Foundation
import MarketData
import PosixIO
import Synchronization

/// Auth on (`--auth-keys`): the HS256 keys and the revoked subjects (both
/// re-read on SIGHUP; a file that does not parse keeps what was there), and
/// the connections each subject holds on this node (`max_conns`). Shared by
/// every loop; each check takes the lock once per upgrade or `auth`
/// request, never per tick.
final class AccessControl: Sendable {
    let keysPath: String
    let revokedPath: String?
    private let state: Mutex<State>
    /// Bumped when the revoked list changes: a loop's sweep looks at its
    /// connections' subjects only then.
    let revocationVersion = Atomic<Int>(0)

    private struct State {
        var verifier: TokenVerifier
        var kids: [String]
        var revoked: Set<String> = []
        var connections: [String: Int] = [:]
    }

    /// Refused at startup with the file's own error.
    init(keysPath: String, revokedPath: String?) throws(AccessControlError) {
        self.keysPath = keysPath
        self.revokedPath = revokedPath
        let keys = try AuthKeyFile.read(keysPath)
        var initial = State(verifier: TokenVerifier(keys: keys), kids: keys.kids)
        if let revokedPath { initial.revoked = try Self.readRevoked(revokedPath) }
        state = Mutex(initial)
    }

    var keyIDs: [String] { state.withLock { $0.kids } }

    /// SIGHUP: both files again. Returns one log line per file.
    func reload() -> [(ok: Bool, line: String)] {
        var lines: [(Bool, String)] = []
        do {
            let keys = try AuthKeyFile.read(keysPath)
            state.withLock { $0.verifier = TokenVerifier(keys: keys); $0.kids = keys.kids }
            lines.append((true, "auth keys reloaded from \(keysPath): \(keys.kids.count) key(s) (\(keys.kids.joined(separator: ", ")))"))
        } catch {
            lines.append((false, "auth keys not reloaded, the previous keys stay: \(error)"))
        }
        if let revokedPath {
            do {
                let revoked = try Self.readRevoked(revokedPath)
                state.withLock { $0.revoked = revoked }
                revocationVersion.wrappingAdd(1, ordering: .releasing)
                lines.append((true, "revoked subjects reloaded from \(revokedPath): \(revoked.count)"))
            } catch {
                lines.append((false, "revoked subjects not reloaded, the previous list stays: \(error)"))
            }
        }
        return lines
    }

    func verify(_ token: String, nowSeconds: Int64) throws(TokenError) -> TokenClaims {
        let verifier = state.withLock { $0.verifier }
        return try verifier.verify(token, nowSeconds: nowSeconds)
    }

    func isRevoked(_ subject: String) -> Bool { state.withLock { $0.revoked.contains(subject) } }

    /// Takes one of the subject's `limit` connections on this node; false: all taken.
    func admit(subject: String, limit: Int?) -> Bool {
        state.withLock { s in
            let held = s.connections[subject, default: 0]
            if let limit, held >= limit { return false }
            s.connections[subject] = held + 1
            return true
        }
    }

    func release(subject: String) {
        state.withLock { s in
            guard let held = s.connections[subject] else { return }
            s.connections[subject] = held > 1 ? held - 1 : nil
        }
    }

    /// Distinct subjects with a connection open on this node.
    var subjectsConnected: Int { state.withLock { $0.connections.count } }

    /// Every reason a token can be refused for, so the series exist at 0.
    static let refusalReasons = ["missing", "too_large", "malformed", "algorithm", "unknown_kid", "signature",
                                 "expired", "not_yet_valid", "claims", "revoked", "role", "max_conns", "subject"]
    private let refusals = Mutex<(counts: [String: UInt64], logSecond: UInt64, logged: Int)>(([:], 0, 0))

    /// Counts a refusal and logs it, at most 10 lines a second (a client
    /// retrying a bad token in a loop must not flood the log). The token
    /// itself is never logged; the subject is, when it is known.
    func refused(_ refusal: AuthRefusal, client: String, path: String) {
        let second = Clock.monotonicNanos() / 1_000_000_000
        let log = refusals.withLock { r in
            r.counts[refusal.reason, default: 0] += 1
            if r.logSecond != second { r = (r.counts, second, 0) }
            r.logged += 1
            return r.logged <= 10
        }
        guard log else { return }
        Log.info("auth refused: \(refusal.description)",
                 ["client": client, "path": path, "reason": refusal.reason, "sub": refusal.subject ?? "-"])
    }

    func metricsText() -> String {
        let counts = refusals.withLock { $0.counts }
        var out = "# HELP ticker_auth_refusals_total Tokens refused (upgrades, /metrics, /v1/publish, auth requests), by reason.\n"
        out += "# TYPE ticker_auth_refusals_total counter\n"
        for reason in Self.refusalReasons {
            out += "ticker_auth_refusals_total{reason=\"\(reason)\"} \(counts[reason, default: 0])\n"
        }
        out += "# HELP ticker_auth_subjects Distinct token subjects with a connection open on this node.\n"
        out += "# TYPE ticker_auth_subjects gauge\n"
        out += "ticker_auth_subjects \(subjectsConnected)\n"
        return out
    }

    private static func readRevoked(_ path: String) throws(AccessControlError) -> Set<String> {
        let text = try AuthKeyFile.readFile(path, what: "revoked subjects")
        var subjects = Set<String>()
        for line in text.split(whereSeparator: \.isNewline) {
            let subject = line.trimmingCharacters(in: .whitespaces)
            if !subject.isEmpty && !subject.hasPrefix("#") { subjects.insert(subject) }
        }
        return subjects
    }

}

/// The auth keys file (`--auth-keys`, `ticker token`): at most 1 MiB, one
/// `KID:BASE64SECRET` per line; its errors name the file.
public enum AuthKeyFile {
    public static func read(_ path: String) throws(AccessControlError) -> AuthKeys {
        let text = try readFile(path, what: "auth keys")
        // AuthKeys refuses a file without a key itself ("no keys").
        do {
            return try AuthKeys(parsing: text)
        } catch {
            throw AccessControlError("\(path): \(error)")
        }
    }

    static func readFile(_ path: String, what: String) throws(AccessControlError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AccessControlError("cannot read the \(what) file \(path)")
        }
        guard data.count <= 1 << 20 else { throw AccessControlError("the \(what) file \(path) is over 1 MiB") }
        return String(decoding: data, as: UTF8.self)
    }
}

public struct AccessControlError: Error, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What auth decided for a connection (nil with auth off, and for the
/// shared publish token): one pointer either way, so a connection without
/// auth grows by one word.
enum ConnectionAccess {
    case granted(AccessGrant)
    /// A stream upgrade whose token came in `?token=` or not at all: it
    /// completes, then closes with the refusal's code, which a browser can
    /// see (it never sees an HTTP status).
    case refused(AuthRefusal)
}

/// What a connection's token allows, from its claims; replaced by `auth`.
final class AccessGrant {
    var subject: String
    var role: TokenRole
    /// Wall-clock nanoseconds at which the token ends (`UInt64.max` for an
    /// `exp` beyond what nanoseconds can count, in the year 2554).
    var expiresAtNs: UInt64
    /// `exp` as the token says it, for the `authenticated` reply.
    var expiresAt: Int64
    /// Symbol ids the token allows; nil: every symbol.
    var symbols: Set<UInt32>?
    /// `token_expiring` was sent for this token.
    var warned = false
    /// The revocation version last checked against.
    var revocationChecked = 0

    init(_ claims: TokenClaims, table: SymbolTable) {
        subject = claims.subject
        role = claims.role
        expiresAt = claims.expiresAt
        let (ns, overflow) = UInt64(max(0, claims.expiresAt)).multipliedReportingOverflow(by: 1_000_000_000)
        expiresAtNs = overflow ? .max : ns
        // Names this node does not list are ignored: one token can serve
        // nodes with different universes.
        symbols = claims.allowsEverySymbol ? nil : Set(claims.symbols.compactMap { table.id(of: $0) })
    }

    func allows(_ id: UInt32) -> Bool { symbols?.contains(id) ?? true }

    /// `auth` with a fresh token of the same subject: its role, expiry and
    /// symbols from now on, and a new `token_expiring` when its time comes.
    func renew(from fresh: AccessGrant) {
        role = fresh.role
        expiresAtNs = fresh.expiresAtNs
        expiresAt = fresh.expiresAt
        symbols = fresh.symbols
        warned = false
    }
}

/// Why a token was not accepted, as the upgrade answers it: an HTTP status
/// when the token came in `Authorization`, a close code otherwise. A class,
/// so `ConnectionAccess` stays one pointer.
final class AuthRefusal: Error, Sendable {
    let status: Int
    let closeCode: UInt16
    /// The metrics label (`ticker_auth_refusals_total{reason}`).
    let reason: String
    /// One sentence, safe in a header and a close frame.
    let description: String
    let subject: String?

    init(status: Int, closeCode: UInt16, reason: String, description: String, subject: String? = nil) {
        self.status = status
        self.closeCode = closeCode
        self.reason = reason
        self.description = description
        self.subject = subject
    }

    static func revoked(_ subject: String) -> AuthRefusal {
        AuthRefusal(status: 401, closeCode: 4401, reason: "revoked", description: "the token's subject is revoked", subject: subject)
    }

    static func invalid(_ error: TokenError) -> AuthRefusal {
        AuthRefusal(status: 401, closeCode: 4401, reason: error.code, description: error.description)
    }
    static let missing = AuthRefusal(status: 401, closeCode: 4401, reason: "missing",
                                     description: "a token is required (Authorization: Bearer or ?token=)")
}
