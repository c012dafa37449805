/// Client → server text-frame requests.
public enum ControlRequest: Equatable, Sendable {
    /// `"*"` among the symbols means every symbol in the table.
    case subscribe(id: Int?, symbols: [String])
    /// `"*"` among the symbols means everything currently subscribed.
    case unsubscribe(id: Int?, symbols: [String])
    case list(id: Int?)
    case ping(id: Int?)

    /// The symbol list entry that stands for "all".
    public static let wildcard = "*"

    public var id: Int? {
        switch self {
        case .subscribe(let id, _), .unsubscribe(let id, _), .list(let id), .ping(let id): id
        }
    }

    public var op: String {
        switch self {
        case .subscribe: "subscribe"
        case .unsubscribe: "unsubscribe"
        case .list: "list"
        case .ping: "ping"
        }
    }

    /// Key order `op, id, symbols`, matching docs/PROTOCOL.md and the golden files.
    public func encoded() -> String {
        var json = JSONText()
        json.field("op", op)
        json.field("id", id)
        switch self {
        case .subscribe(_, let symbols), .unsubscribe(_, let symbols):
            json.field("symbols", strings: symbols)
        case .list, .ping:
            break
        }
        return json.close()
    }
}
