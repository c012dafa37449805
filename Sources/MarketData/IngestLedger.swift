/// The stateful half of `/v1/publish` validation: who owns each symbol and
/// the last sequence the server accepted for it. A value type with no locks
/// and no clock, so every rule is a unit test; the server keeps one behind a
/// single `Mutex` and calls `admit` once per published message.
///
/// Rules (docs/PROTOCOL.md, "Ingest"):
/// - the simulated feed, when it runs, owns every symbol;
/// - otherwise a publisher claims a symbol with its first accepted record of
///   it and keeps it until `release` (its connection closed);
/// - a record is accepted iff its sequence is the last accepted one + 1; a
///   symbol that never ticked accepts any first sequence in
///   1...`IngestValidator.maxSequence`. The last sequence outlives its owner,
///   so the next publisher continues the stream where the previous one left it;
/// - a message is admitted whole or not at all.
public struct IngestLedger: Sendable {
    /// Any value that is unique among the live publishers (the server uses
    /// the connection's socket descriptor, released before it is closed).
    public typealias Owner = Int

    public let feedOwnsAll: Bool
    private var owners: [Owner?]
    private var lastSequences: [UInt64]
    /// Per admitted record, the symbol's state before it; replayed backwards
    /// when a later record of the same message is refused. Kept to reuse its storage.
    private var undo: [(symbol: Int, owner: Owner?, last: UInt64)] = []

    public init(symbolCount: Int, feedOwnsAll: Bool) {
        self.feedOwnsAll = feedOwnsAll
        owners = Array(repeating: nil, count: symbolCount)
        lastSequences = Array(repeating: 0, count: symbolCount)
    }

    public var symbolCount: Int { owners.count }

    public func owner(of symbolId: UInt32) -> Owner? { owners[Int(symbolId)] }

    /// 0 when the symbol has never ticked through ingest.
    public func lastSequence(of symbolId: UInt32) -> UInt64 { lastSequences[Int(symbolId)] }

    /// Checks every record of one message in order and commits them all, or
    /// throws the first refusal and leaves the ledger exactly as it was.
    /// Records must have passed `IngestValidator` (symbol ids in range).
    public mutating func admit(_ ticks: [Tick], from owner: Owner) throws(IngestRejection) {
        try admit(ticks[...], from: owner)
    }

    /// The same for one message's records inside a larger array (the server
    /// gathers every message of one read into one array; record indices in a
    /// refusal count from the slice's start, i.e. within the message).
    public mutating func admit(_ ticks: ArraySlice<Tick>, from owner: Owner) throws(IngestRejection) {
        if feedOwnsAll, let first = ticks.first {
            throw IngestRejection(
                .symbolOwned, recordIndex: 0, symbolId: first.symbolId,
                detail: "the simulated feed owns every symbol; start the server with --no-feed to publish")
        }
        undo.removeAll(keepingCapacity: true)
        for (index, tick) in zip(0..., ticks) {
            let symbol = Int(tick.symbolId)
            precondition(symbol < owners.count, "admit needs validated records: symbol id \(symbol) out of range")
            if let rejection = check(tick, symbol: symbol, index: index, owner: owner) {
                rollBack()
                throw rejection
            }
            undo.append((symbol, owners[symbol], lastSequences[symbol]))
            owners[symbol] = owner
            lastSequences[symbol] = tick.sequence
        }
    }

    /// Frees every symbol `owner` holds; their last sequences stay.
    /// Returns how many symbols it held.
    @discardableResult
    public mutating func release(_ owner: Owner) -> Int {
        var released = 0
        for symbol in owners.indices where owners[symbol] == owner {
            owners[symbol] = nil
            released += 1
        }
        return released
    }

    private func check(_ tick: Tick, symbol: Int, index: Int, owner: Owner) -> IngestRejection? {
        func reject(_ reason: IngestRejection.Reason, _ detail: String) -> IngestRejection {
            IngestRejection(reason, recordIndex: index, symbolId: tick.symbolId, detail: detail)
        }
        if let current = owners[symbol], current != owner {
            return reject(.symbolOwned, "another publisher connection owns this symbol until it disconnects")
        }
        let sequence = tick.sequence
        guard sequence >= 1 && sequence <= IngestValidator.maxSequence else {
            return reject(.sequenceRange, "sequence \(sequence) outside 1...\(IngestValidator.maxSequence)")
        }
        let last = lastSequences[symbol]
        guard last != 0 else { return nil }
        let expected = last + 1
        if sequence <= last {
            return reject(.sequenceStale, "expected sequence \(expected), got \(sequence) (backwards or duplicate)")
        }
        if sequence != expected {
            return reject(.sequenceGap, "expected sequence \(expected), got \(sequence): \(sequence - expected) updates would be missing")
        }
        return nil
    }

    private mutating func rollBack() {
        for entry in undo.reversed() {
            owners[entry.symbol] = entry.owner
            lastSequences[entry.symbol] = entry.last
        }
        undo.removeAll(keepingCapacity: true)
    }
}
