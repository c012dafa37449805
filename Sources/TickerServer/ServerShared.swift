import MarketData
import PosixIO
import Synchronization

/// What every loop and the feed share, by concern: who may connect
/// (`admission`), who may publish (`ingest`), the tick stream to the loops
/// (`broadcast`), and what the node reports (`health`); beside them the
/// read-only configuration and lifecycle.
final class ServerShared: Sendable {
    let config: ServerConfig
    let symbols: SymbolTable
    /// Auth on (`--auth-keys`): keys, revocations, subjects' connections.
    let access: AccessControl?
    /// `GET /v1/symbols` body, rendered once.
    let symbolsJSON: [UInt8]
    let startedAt = Clock.wallNanos()
    let shuttingDown = Atomic<Bool>(false)
    let admission: Admission
    let ingest: IngestGate
    let broadcast: Broadcast
    let health: NodeHealth

    init(config: ServerConfig, symbols: SymbolTable, access: AccessControl? = nil) {
        self.config = config
        self.symbols = symbols
        self.access = access
        symbolsJSON = Array(SymbolDirectory.json(symbols).utf8)
        admission = Admission(maxPerAddress: config.overload.maxConnectionsPerAddress)
        ingest = IngestGate(symbolCount: symbols.count, feedOwnsAll: config.simulatedFeed)
        // 1...2^53: exact in a JavaScript number.
        broadcast = Broadcast(symbolCount: symbols.count, epoch: config.epoch ?? UInt64.random(in: 1...ResumeRequest.maxSequence),
                              delivery: config.hub.delivery)
        health = NodeHealth(config: config, broadcast: broadcast, access: access, startedAt: startedAt)
    }
}

/// The `GET /v1/symbols` document.
enum SymbolDirectory {
    static func json(_ table: SymbolTable) -> String {
        var out = "["
        for (i, s) in table.all.enumerated() {
            if i > 0 { out += "," }
            out += "{\"symbol\":\"\(s.symbol)\",\"id\":\(s.id),\"price_exponent\":\(s.priceExponent),"
            out += "\"tick_size\":\(s.tickSize),\"price\":\(s.price)}"
        }
        return out + "]"
    }
}
