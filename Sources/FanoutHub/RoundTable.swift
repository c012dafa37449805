import MarketData

/// The ticks of one fan-out round, in arrival order, with their wire
/// records (or, for one-tick-per-message delivery, their pre-framed
/// messages) and, per symbol, a chain through them (`head[symbol]`, then
/// `next[k]`), so a round can be walked tick by tick or subscriber by
/// subscriber with each symbol's records in sequence order.
struct RoundTable {
    private(set) var ticks: [Tick] = []
    private(set) var records: [UInt8] = []
    /// One-tick-per-message delivery: tick k's whole message at
    /// `k * frameSize` (empty for batched delivery).
    private(set) var frames: [UInt8] = []
    private(set) var frameSize = 0
    /// Per round tick: the next tick of the same symbol in the round, or -1.
    private(set) var next: [Int32] = []
    /// Per symbol: its first / last tick in the round, or -1.
    private(set) var head: [Int32]
    private var tail: [Int32]
    private var symbols: [Int32] = []
    /// (tick, subscriber) pairs the round holds: the cost of the tick-by-tick walk.
    private(set) var pairs = 0
    /// Delta subscribers on the loop: per round tick, its delta record
    /// (`deltas[deltaStart[k]..<deltaEnd[k]]`, empty when its symbol has no
    /// delta subscriber) and the sequence it is relative to (0: none, so
    /// every receiver gets the keyframe). Empty while the loop has none.
    private(set) var deltas: [UInt8] = []
    private(set) var deltaStart: [Int32] = []
    private(set) var deltaEnd: [Int32] = []
    private(set) var reference: [UInt64] = []

    init(symbolCount: Int) {
        head = Array(repeating: -1, count: symbolCount)
        tail = Array(repeating: -1, count: symbolCount)
    }

    /// `record`: the tick's `TickWire.recordSize` wire bytes; `fanout`: its
    /// symbol's subscribers on this loop.
    mutating func append(_ tick: Tick, record: UnsafeRawPointer, fanout: Int) {
        records.append(contentsOf: UnsafeRawBufferPointer(start: record, count: TickWire.recordSize))
        chain(tick, fanout: fanout)
    }

    /// One-tick-per-message delivery: `frame` is the tick's whole message
    /// (`size` bytes, the same for every tick of a round).
    mutating func append(_ tick: Tick, frame: UnsafeRawPointer, size: Int, fanout: Int) {
        precondition(frames.isEmpty || size == frameSize, "one frame size per round")
        frameSize = size
        frames.append(contentsOf: UnsafeRawBufferPointer(start: frame, count: size))
        chain(tick, fanout: fanout)
    }

    /// The delta form of the tick just appended (call once per appended
    /// tick while the loop has delta subscribers): relative to `previous`,
    /// the symbol's record before it as the loop published it; encoded only
    /// when `encode` (its symbol has delta subscribers).
    mutating func appendDelta(_ tick: Tick, previous: Tick?, sendTimeNs: UInt64, encode: Bool) {
        // Ticks appended while the loop had no delta subscriber (none can
        // join mid-round; this keeps the table aligned if one ever did) get
        // no delta form: their receivers get keyframes.
        while deltaEnd.count < ticks.count - 1 {
            deltaStart.append(Int32(deltas.count))
            deltaEnd.append(Int32(deltas.count))
            reference.append(0)
        }
        deltaStart.append(Int32(deltas.count))
        if encode, let previous {
            TickDelta.appendRecord(tick, reference: previous, sendTimeNs: sendTimeNs, to: &deltas)
            reference.append(previous.sequence)
        } else {
            reference.append(0)
        }
        deltaEnd.append(Int32(deltas.count))
    }

    private mutating func chain(_ tick: Tick, fanout: Int) {
        let symbol = Int(tick.symbolId)
        let k = Int32(ticks.count)
        ticks.append(tick)
        next.append(-1)
        if tail[symbol] >= 0 {
            next[Int(tail[symbol])] = k
        } else {
            head[symbol] = k
            symbols.append(Int32(symbol))
        }
        tail[symbol] = k
        pairs += fanout
    }

    mutating func reset() {
        for symbol in symbols {
            head[Int(symbol)] = -1
            tail[Int(symbol)] = -1
        }
        symbols.removeAll(keepingCapacity: true)
        ticks.removeAll(keepingCapacity: true)
        records.removeAll(keepingCapacity: true)
        frames.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        if !deltaEnd.isEmpty {
            deltas.removeAll(keepingCapacity: true)
            deltaStart.removeAll(keepingCapacity: true)
            deltaEnd.removeAll(keepingCapacity: true)
            reference.removeAll(keepingCapacity: true)
        }
        pairs = 0
    }
}
