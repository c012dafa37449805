/// Fixed key order (`type` first, then `id`, then payload) so the same reply
/// always produces the same bytes; docs/PROTOCOL.md and the golden fixtures
/// depend on it.
extension ControlReply {
    public func encoded() -> String {
        var json = JSONText()
        json.field("type", type)
        switch self {
        case .welcome(let info):
            json.field("protocol", info.protocolVersion)
            json.field("server", info.server)
            json.field("heartbeat_ms", info.heartbeatMs)
            json.field("symbols", info.symbolCount)
            var limits = JSONText()
            limits.field("max_symbols_per_connection", info.limits.maxSymbolsPerConnection)
            limits.field("max_messages_per_second", info.limits.maxMessagesPerSecond)
            limits.field("max_message_bytes", info.limits.maxMessageBytes)
            json.field("limits", raw: limits.close())
            if let epoch = info.epoch { json.field("epoch", epoch) }
            if let encoding = info.encoding { json.field("encoding", encoding) }
        case .subscribed(let id, let symbols, let resume):
            json.field("id", id)
            json.field("symbols", raw: Self.encode(symbols))
            if let resume {
                json.field("resumed", strings: resume.resumed)
                json.field("reset", strings: resume.reset)
            }
        case .unsubscribed(let id, let symbols, let reason):
            json.field("id", id)
            json.field("symbols", raw: Self.encode(symbols))
            if let reason { json.field("reason", reason) }
        case .subscriptions(let id, let symbols, let intervals):
            json.field("id", id)
            json.field("symbols", raw: Self.encode(symbols))
            if !intervals.isEmpty {
                // In the order of `symbols`, so the same reply is the same bytes.
                var object = JSONText()
                for ref in symbols { if let ms = intervals[ref.symbol] { object.field(ref.symbol, ms) } }
                json.field("intervals", raw: object.close())
            }
        case .tokenExpiring(let inMs):
            json.field("in_ms", inMs)
        case .authenticated(let id, let expiresAt):
            json.field("id", id)
            json.field("exp", expiresAt)
        case .pong(let id, let timeNs):
            json.field("id", id)
            json.field("time_ns", timeNs)
        case .error(let error):
            json.field("id", error.id)
            json.field("code", error.code.rawValue)
            json.field("message", error.message)
            if let symbols = error.symbols {
                json.field("symbols", strings: symbols)
            }
        }
        return json.close()
    }

    private static func encode(_ refs: [SymbolRef]) -> String {
        JSONText.array(
            refs.map { ref in
                var item = JSONText()
                item.field("symbol", ref.symbol)
                item.field("id", ref.id)
                return item.close()
            })
    }
}
