/// Client → server text-frame requests.
public enum ControlRequest: Equatable, Sendable {
    /// `"*"` among the symbols means every symbol in the table. `resume`
    /// (`from` on the wire) asks for the retained updates after the given
    /// sequences instead of snapshots.
    case subscribe(id: Int?, symbols: [String], resume: ResumeRequest? = nil)
    /// `"*"` among the symbols means everything currently subscribed.
    case unsubscribe(id: Int?, symbols: [String])
    case list(id: Int?)
    case ping(id: Int?)
    /// A fresh token for the same subject (servers started with
    /// `--auth-keys`): replaces the connection's entitlement and expiry.
    case auth(id: Int?, token: String)

    /// The symbol list entry that stands for "all".
    public static let wildcard = "*"

    public var id: Int? {
        switch self {
        case .subscribe(let id, _, _), .unsubscribe(let id, _), .list(let id), .ping(let id), .auth(let id, _): id
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

    /// Key order `op, id, symbols, from, epoch`, matching docs/PROTOCOL.md and the golden files.
    public func encoded() -> String {
        var json = JSONText()
        json.field("op", op)
        json.field("id", id)
        switch self {
        case .subscribe(_, let symbols, let resume):
            json.field("symbols", strings: symbols)
            if let resume {
                var from = JSONText()
                for point in resume.points { from.field(point.symbol, point.sequence) }
                json.field("from", raw: from.close())
                if let epoch = resume.epoch { json.field("epoch", epoch) }
            }
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
