import MarketData

/// What the client library reports besides ticks.
public enum TickerEvent: Sendable, Equatable {
    /// Connected and welcomed by `url` (`reconnect` false for the first session).
    case connected(url: TickerURL, reconnect: Bool)
    /// The server acknowledged a subscription (names and wire ids).
    case subscribed([SymbolRef])
    /// These symbols continue without a gap: the updates missed while away
    /// follow as ordinary records.
    case resumed([String])
    /// This symbol's updates could not all be replayed (away too long, another
    /// server process, or never seen): the next record is a new baseline
    /// (a snapshot, or the first update if the symbol never ticked).
    case reset(symbol: String)
    /// Decoded records of one binary message, in order.
    case ticks(sendTimeNs: UInt64, [Tick])
    /// An undeclared jump: updates were lost (a bug or data loss upstream).
    case gap(symbol: String, expected: UInt64, received: UInt64)
    /// The server refused a request.
    case error(ControlError)
    /// A binary message could not be decoded (`TickDeltaError.code` and
    /// why); none of its records was delivered, and the client reconnects
    /// and resumes.
    case decodeError(String)
    /// The connection was lost; `retryInNanos` says when the next attempt
    /// is due (nil: the client will not reconnect).
    case disconnected(reason: String, retryInNanos: UInt64?)
    /// Auth: the server ended these subscriptions (`reason` `entitlement`:
    /// a refreshed token no longer allows them); they are not resubscribed.
    case unsubscribed(symbols: [String], reason: String)
}

/// The resume bookkeeping of one logical subscription across connections:
/// what the caller wants, the last sequence seen per symbol, and the epoch
/// those sequences belong to. Pure: feed it what the server says, ask it
/// what to send on the next connection.
public struct ResumeBook: Sendable {
    /// Symbols the caller wants, in the order first asked (may hold `*`).
    public private(set) var wanted: [String] = []
    /// Last sequence seen per symbol name (names, not ids: ids are the
    /// server's numbering, names are what a resume point says).
    public private(set) var last: [String: UInt64] = [:]
    /// The epoch of the welcome the sequences in `last` were read under.
    public private(set) var epoch: UInt64?
    private var names: [UInt32: String] = [:]
    /// Resume points the caller supplied before any session (`tap --from`).
    private var seeded: [String: UInt64] = [:]
    /// A `from` was sent and its answer is awaited.
    private var pendingFrom: Set<String> = []
    /// Throttled wanted symbols (or `*`) → interval in ms; absent: every tick.
    public private(set) var intervals: [String: Int] = [:]

    public init(symbols: [String] = [], from: [String: UInt64] = [:], intervalMs: Int = 0) {
        for s in symbols where !wanted.contains(s) { wanted.append(s) }
        seeded = from
        noteInterval(intervalMs, for: symbols)
    }

    /// The server's rule: a subscribe sets the interval of what it names,
    /// and `*` names everything held.
    private mutating func noteInterval(_ ms: Int, for symbols: [String]) {
        let named = symbols.contains(ControlRequest.wildcard) ? wanted : symbols
        for s in named { intervals[s] = ms == 0 ? nil : ms }
    }

    /// The name a record's id stands for on this connection.
    public func name(of id: UInt32) -> String? { names[id] }

    /// A new connection was welcomed. Ids are per server, so they are
    /// relearned from its `subscribed` reply.
    public mutating func connectionOpened(epoch newEpoch: UInt64?) {
        names.removeAll()
        pendingFrom.removeAll()
        if epoch == nil, last.isEmpty { epoch = newEpoch }
        pendingEpoch = newEpoch
    }

    private var pendingEpoch: UInt64?

    /// The `subscribe` to send on a (re)connection: everything wanted, with
    /// `from` for every symbol whose position is known.
    /// With intervals in use, only the first of `resubscribeRequests`.
    public mutating func resubscribeRequest(id: Int?) -> ControlRequest? {
        resubscribeRequests(firstID: id).first
    }

    /// The subscribes to send on a (re)connection, in order, ids counting up
    /// from `firstID`: one per interval in use; `*` first, since it sets
    /// the interval of everything held and the named symbols then override
    /// it. Without intervals, one request, as before.
    public mutating func resubscribeRequests(firstID: Int?) -> [ControlRequest] {
        guard !wanted.isEmpty else { return [] }
        var groups: [(ms: Int, symbols: [String])] = []
        let star = wanted.contains(ControlRequest.wildcard)
        if star { groups.append((intervals[ControlRequest.wildcard] ?? 0, [ControlRequest.wildcard])) }
        for s in wanted where s != ControlRequest.wildcard {
            let ms = intervals[s] ?? 0
            if star && ms == groups[0].ms { continue }   // `*` covers it
            if let k = groups.indices.first(where: { groups[$0].ms == ms && !(star && $0 == 0) }) {
                groups[k].symbols.append(s)
            } else {
                groups.append((ms, [s]))
            }
        }
        var requests: [ControlRequest] = []
        for (k, group) in groups.enumerated() {
            let id = firstID.map { $0 + k }
            // Named symbols after `*` are already held: their positions went with it.
            requests.append(subscribeRequest(group.symbols, id: id, intervalMs: group.ms, withFrom: !(star && k > 0)))
        }
        return requests
    }

    /// Adds symbols to what is wanted (at `intervalMs`, 0: every tick) and
    /// returns the request for them.
    public mutating func subscribe(_ symbols: [String], id: Int?, intervalMs: Int = 0) -> ControlRequest {
        for s in symbols where !wanted.contains(s) { wanted.append(s) }
        noteInterval(intervalMs, for: symbols)
        return subscribeRequest(symbols, id: id, intervalMs: intervalMs)
    }

    public mutating func unsubscribe(_ symbols: [String]) {
        if symbols.contains(ControlRequest.wildcard) {
            wanted.removeAll()
            last.removeAll()
            intervals.removeAll()
            return
        }
        wanted.removeAll { symbols.contains($0) }
        for s in symbols {
            last[s] = nil
            intervals[s] = nil
        }
    }

    private mutating func subscribeRequest(_ symbols: [String], id: Int?, intervalMs: Int = 0, withFrom: Bool = true) -> ControlRequest {
        let all = symbols.contains(ControlRequest.wildcard)
        var points: [ResumePoint] = []
        let known = last.merging(seeded) { current, _ in current }
        for (name, sequence) in known.sorted(by: { $0.key < $1.key }) where withFrom && (all || symbols.contains(name)) {
            points.append(ResumePoint(symbol: name, sequence: sequence))
        }
        guard !points.isEmpty else { return .subscribe(id: id, symbols: symbols, intervalMs: intervalMs) }
        pendingFrom.formUnion(points.map(\.symbol))
        // Seeded points without an epoch are the caller's word; known ones
        // carry the epoch they were read under.
        let epochToSend = last.isEmpty ? nil : epoch
        return .subscribe(id: id, symbols: symbols, resume: ResumeRequest(points: points, epoch: epochToSend), intervalMs: intervalMs)
    }

    /// A `subscribed` reply: learns the ids, and turns the resume report
    /// into events. A server that ignored `from` (no report) reset them all.
    public mutating func subscribed(_ refs: [SymbolRef], report: ResumeReport?) -> [TickerEvent] {
        for ref in refs { names[ref.id] = ref.symbol }
        if let newEpoch = pendingEpoch {
            epoch = newEpoch
        }
        var events: [TickerEvent] = [.subscribed(refs)]
        let asked = refs.map(\.symbol).filter { pendingFrom.contains($0) }
        guard !asked.isEmpty else { return events }
        let resumed = report?.resumed ?? []
        let reset = report.map { $0.reset } ?? asked
        for name in asked { pendingFrom.remove(name); seeded[name] = nil }
        if !resumed.isEmpty { events.append(.resumed(resumed)) }
        for name in reset {
            last[name] = nil
            events.append(.reset(symbol: name))
        }
        return events
    }

    /// One record: updates the position, and reports an undeclared gap.
    public mutating func observe(_ tick: Tick) -> TickerEvent? {
        guard let name = names[tick.symbolId] else { return nil }
        defer { last[name] = tick.sequence }
        guard !tick.flags.contains(.snapshot), let previous = last[name] else { return nil }
        let expected = SequenceRule.expected(after: previous, conflatedCount: tick.conflatedCount)
        guard tick.sequence != expected else { return nil }
        return .gap(symbol: name, expected: expected, received: tick.sequence)
    }
}
