/// Client → server text-frame requests.
public enum ControlRequest: Equatable, Sendable {
    /// `"*"` among the symbols means every symbol in the table. `resume`
    /// (`from` on the wire) asks for the retained updates after the given
    /// sequences instead of snapshots. `intervalMs` (`interval_ms` on the
    /// wire) throttles the listed symbols to one record per interval; 0
    /// (the default, and absent on the wire) is every tick.
    case subscribe(id: Int?, symbols: [String], resume: ResumeRequest? = nil, intervalMs: Int = 0)
    /// `"*"` among the symbols means everything currently subscribed.
    case unsubscribe(id: Int?, symbols: [String])
    case list(id: Int?)
    case ping(id: Int?)
    /// A fresh token for the same subject (servers started with
    /// `--auth-keys`): replaces the connection's entitlement and expiry.
    case auth(id: Int?, token: String)

    /// The symbol list entry that stands for "all".
    public static let wildcard = "*"

    /// Accepted throttle intervals in ms, besides 0 (every tick): shorter
    /// than 50 ms is barely a throttle and would multiply timers; a minute
    /// is the longest a dashboard sensibly waits.
    public static let intervalRange = 50...60_000

    /// 0 or within `intervalRange`.
    public static func isValidInterval(_ ms: Int) -> Bool { ms == 0 || intervalRange.contains(ms) }
    /// The rule, for the `bad_request` messages of both ways to give an interval.
    public static let intervalRule = "0 (every tick) or an integer from \(intervalRange.lowerBound) to \(intervalRange.upperBound)"

    public var id: Int? {
        switch self {
        case .subscribe(let id, _, _, _), .unsubscribe(let id, _), .list(let id), .ping(let id), .auth(let id, _): id
        }
    }

    public var op: String {
        switch self {
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .list: "list"
        case .ping: "ping"
        case .auth: "auth"
        }
    }

    /// Key order `op, id, symbols, from, epoch, interval_ms` (the last only when not 0), matching docs/PROTOCOL.md and the golden files.
    public func encoded() -> String {
        var json = JSONText()
        json.field("op", op)
        json.field("id", id)
        switch self {
        case .subscribe(_, let symbols, let resume, let intervalMs):
            json.field("symbols", strings: symbols)
            if let resume {
                var from = JSONText()
                for point in resume.points { from.field(point.symbol, point.sequence) }
                json.field("from", raw: from.close())
                if let epoch = resume.epoch { json.field("epoch", epoch) }
            }
            if intervalMs != 0 { json.field("interval_ms", intervalMs) }
        case .unsubscribe(_, let symbols):
            json.field("symbols", strings: symbols)
        case .auth(_, let token):
            json.field("token", token)
        case .list, .ping:
            break
        }
        return json.close()
    }
}
