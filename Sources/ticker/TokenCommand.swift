import Auth
import TickerServer
import Foundation

/// `ticker token`: mints a token with a key of an `--auth-keys` file, for
/// operators and tests (production tokens usually come from the operator's
/// own login service, signed with the same keys; docs/DEPLOYMENT.md).
enum TokenCommand {
    static let help = """
    USAGE: ticker token --auth-keys FILE --sub SUBJECT --symbols LIST [--kid KID]
                        [--ttl DURATION] [--role subscribe|publish|admin] [--max-conns N]

    Prints a signed token (JWT, HS256) on standard output, for servers started
    with the same --auth-keys file.

    OPTIONS:
      --auth-keys FILE   Keys, one KID:BASE64SECRET per line (the server's file)
      --kid KID          Which key signs (default: the file's first)
      --sub SUBJECT      The user or program the token stands for (required)
      --symbols LIST     Comma-separated symbols it may read (or publish), or *
                         for every symbol (required)
      --ttl DURATION     Valid for this long from now: 90s, 15m, 1h, 7d or plain
                         seconds (default 1h)
      --role ROLE        subscribe (default: /v1/stream), publish (/v1/publish),
                         admin (/metrics on the main port, and both of the others)
      --max-conns N      Connections this subject may hold on each node
      -h, --help         Show this help
    """

    struct Options {
        var keysPath: String
        var kid: String?
        var subject: String
        var symbols: [String]
        var ttlSeconds: Int64 = 3_600
        var role: TokenRole = .subscribe
        var maxConnections: Int?
    }

    static func parse(_ args: inout Arguments) throws(ArgumentError) -> Options {
        guard let keys = try args.value("--auth-keys") else { throw ArgumentError(message: "token needs --auth-keys FILE") }
        guard let subject = try args.value("--sub"), !subject.isEmpty else { throw ArgumentError(message: "token needs --sub SUBJECT") }
        guard let list = try args.value("--symbols") else {
            throw ArgumentError(message: "token needs --symbols, e.g. --symbols AAPL,MSFT or --symbols '*'")
        }
        let symbols = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !symbols.isEmpty else { throw ArgumentError(message: "--symbols names no symbol") }
        var options = Options(keysPath: keys, kid: try args.value("--kid"), subject: subject, symbols: symbols)
        if let ttl = try args.value("--ttl") { options.ttlSeconds = try seconds(ttl) }
        if let role = try args.value("--role") {
            guard let parsed = TokenRole(rawValue: role) else {
                throw ArgumentError(message: "--role takes subscribe, publish or admin, not '\(role)'")
            }
            options.role = parsed
        }
        options.maxConnections = try args.int("--max-conns", in: 1...1_000_000)
        try args.finish()
        return options
    }

    /// "90s", "15m", "1h", "7d" or plain seconds; at least 1 s, at most 400 days.
    static func seconds(_ text: String) throws(ArgumentError) -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let u = units[last] {
            unit = u
            digits = digits.dropLast()
        }
        guard let n = Int64(digits), n > 0, n <= 400 * 86_400 / unit else {
            throw ArgumentError(message: "--ttl takes a duration such as 90s, 15m, 1h or 7d (at most 400d), not '\(text)'")
        }
        return n * unit
    }

    static func run(_ options: Options) throws -> String {
        let keys: AuthKeys
        do {
            keys = try AuthKeyFile.read(options.keysPath)
        } catch {
            throw ArgumentError(message: error.message)
        }
        // A key file holds at least one key (AuthKeys refuses it otherwise).
        let kid = options.kid ?? keys.kids[0]
        guard let secret = keys.secret(for: kid) else {
            throw ArgumentError(message: "no key '\(kid)' in \(options.keysPath) (it has \(keys.kids.joined(separator: ", ")))")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let claims = TokenClaims(subject: options.subject, expiresAt: now + options.ttlSeconds, issuedAt: now,
                                 symbols: options.symbols, maxConnections: options.maxConnections, role: options.role)
        return TokenMinter.mint(claims, kid: kid, secret: secret)
    }
}
