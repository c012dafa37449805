import MarketData

/// The recent updates one event loop has published, per symbol, for
/// `subscribe` with `from` (resume without a gap).
///
/// Where it lives: in each loop's `LoopHub`, fed by the same `add` that fans
/// a batch out, so what it holds is exactly what this loop has published, in
/// order, and a replay followed by live delivery can have neither a hole nor
/// a duplicate (another loop may be a batch ahead or behind; it does not
/// matter). The bytes are not copied: the history keeps references to the
/// immutable `TickBatch`es the feed already shares with every loop, so a
/// batch costs its memory once whatever the number of loops; per loop the
/// history adds an 8-byte index entry per retained tick. Nothing is locked.
///
/// Loop-level folding (`LoopInbox`) means a loop may never have seen some
/// sequences: it then holds the conflated record that declared them, and a
/// replay crossing it carries it as is (the same declared gap a live client
/// got).
///
/// A published tick flagged `snapshot` (a gateway resetting every client's
/// baseline after its feed restarted) ends its symbol's history: sequences
/// before it belong to another run.
///
/// Bounded twice: batches older than `retentionNanos` are dropped, and so
/// are the oldest past `maxTicks` retained ticks (a feed faster than the
/// machine cannot grow it without end).
public final class TickHistory {
    struct Entry {
        /// Serial of the batch (wrapping; compared relative to `firstSerial`).
        var serial: UInt32
        var index: UInt32
    }

    public let retentionNanos: UInt64
    public let maxTicks: Int
    private var batches: [TickBatch?] = []
    private var addedAt: [UInt64] = []
    private var head = 0
    /// Serial of `batches[head]`.
    private var firstSerial: UInt32 = 0
    private var perSymbol: [[Entry]]
    private var symbolHeads: [Int]
    /// Round-robin cursor for trimming symbols that stopped ticking.
    private var trimCursor = 0
    public private(set) var retainedTicks = 0

    public init(symbolCount: Int, retentionNanos: UInt64, maxTicks: Int) {
        self.retentionNanos = retentionNanos
        self.maxTicks = max(1, maxTicks)
        perSymbol = Array(repeating: [], count: symbolCount)
        symbolHeads = Array(repeating: 0, count: symbolCount)
    }

    public var retainedBatches: Int { batches.count - head }

    /// Remembers a batch this loop has just published (call in publication order).
    public func append(_ batch: TickBatch, nowNanos: UInt64) {
        guard batch.count > 0 else { return }
        let serial = firstSerial &+ UInt32(truncatingIfNeeded: batches.count - head)
        batches.append(batch)
        addedAt.append(nowNanos)
        retainedTicks += batch.count
        for (i, tick) in batch.ticks.enumerated() {
            let symbol = Int(tick.symbolId)
            guard symbol < perSymbol.count else { continue }
            if tick.flags.contains(.snapshot) {
                // A baseline reset (a gateway after its feed restarted): what came
                // before is another sequence space, never to be replayed past it.
                perSymbol[symbol].removeAll(keepingCapacity: true)
                symbolHeads[symbol] = 0
            }
            perSymbol[symbol].append(Entry(serial: serial, index: UInt32(i)))
        }
        evict(nowNanos: nowNanos)
        // A few symbols per batch lose entries whose batches are gone, so a
        // symbol that stopped ticking does not pin its stale index forever.
        for _ in 0..<min(8, perSymbol.count) {
            trim(trimCursor)
            trimCursor = (trimCursor + 1) % perSymbol.count
        }
    }

    private func evict(nowNanos: UInt64) {
        while head < batches.count - 1,
              retainedTicks > maxTicks || nowNanos &- addedAt[head] > retentionNanos {
            retainedTicks -= batches[head]!.count
            batches[head] = nil
            head += 1
            firstSerial &+= 1
        }
        if head >= 1024 && head * 2 >= batches.count {
            batches.removeFirst(head)
            addedAt.removeFirst(head)
            head = 0
        }
    }

    private func isLive(_ entry: Entry) -> Bool {
        Int(entry.serial &- firstSerial) < batches.count - head
    }

    private func tick(_ entry: Entry) -> Tick {
        batches[head + Int(entry.serial &- firstSerial)]!.ticks[Int(entry.index)]
    }

    /// Drops a symbol's entries whose batches were evicted.
    private func trim(_ symbol: Int) {
        var h = symbolHeads[symbol]
        let count = perSymbol[symbol].count
        while h < count && !isLive(perSymbol[symbol][h]) { h += 1 }
        if h == count {
            if count > 0 { perSymbol[symbol].removeAll(keepingCapacity: count <= 64) }
            h = 0
        } else if h >= 256 && h * 2 >= count {
            perSymbol[symbol].removeFirst(h)
            h = 0
        }
        symbolHeads[symbol] = h
    }

    /// The updates of `symbol` after sequence `after`, in order, up to the
    /// newest this loop published: nil unless all of them are still retained,
    /// or when there are more than `limit`. Empty when `after` is the newest.
    /// `newest` is the loop's last published sequence of the symbol.
    public func replay(symbol: UInt32, after: UInt64, newest: UInt64, limit: Int) -> [Tick]? {
        guard after <= newest else { return nil }
        if after == newest { return [] }
        let s = Int(symbol)
        guard s < perSymbol.count else { return nil }
        trim(s)
        let entries = perSymbol[s]
        var low = symbolHeads[s]
        var high = entries.count
        // First retained entry whose sequence is past `after`.
        while low < high {
            let mid = (low + high) / 2
            if tick(entries[mid]).sequence <= after { low = mid + 1 } else { high = mid }
        }
        guard low < entries.count, entries.count - low <= limit else { return nil }
        let first = tick(entries[low])
        // It must continue exactly where the client stands (a conflated
        // record declares what it swallowed: its predecessor is seq - 1 - count).
        guard SequenceRule.expected(after: after, conflatedCount: first.conflatedCount) == first.sequence else { return nil }
        var ticks: [Tick] = []
        ticks.reserveCapacity(entries.count - low)
        for entry in entries[low...] { ticks.append(tick(entry)) }
        guard ticks.last?.sequence == newest else { return nil }
        return ticks
    }
}
