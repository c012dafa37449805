import MarketData

/// Every subscription of one loop at one throttle interval: conflation on
/// a clock. The class is sampled at fixed instants (one repeating timer per
/// class per loop, the server's), so all its members receive the same
/// samples: per symbol that changed since the previous sample, the newest
/// tick, folded with `LoopHub.conflate` so its `conflatedCount` covers the
/// ticks it replaced. A sample's record is therefore the same bytes for
/// every member whose last record of the symbol was the class's previous
/// sample (encoded once per sample); the others are the members' own
/// exceptions (`Subscriber.throttleBase`), rare and settled by the sample.
///
/// What a sample costs grows with the symbols that changed in the interval
/// (`pending`, filled as ticks arrive), not with the symbols subscribed.
final class IntervalClass {
    let intervalMs: Int
    /// Per symbol, the members holding it at this interval.
    var members: [[Unmanaged<Subscriber>]]
    /// Subscriptions held in this class; at 0 the class is removed.
    var subscriptionCount = 0
    /// Per symbol, the sequence of the class's previous sample (or, for a
    /// symbol that had no member, of the newest tick when its first member
    /// joined): what the next sample's count is relative to.
    var base: [UInt64]
    /// The newest tick per symbol changed since the previous sample, in
    /// first-change order, each folded with what it replaced.
    var pending: [Tick] = []
    /// Symbol id → index in `pending` (-1: unchanged since the last sample).
    var pendingAt: [Int32]
    /// Per symbol, the class's previous sample itself: what the next
    /// sample's delta form is relative to (delta members, `LoopHub+Delta.swift`).
    var lastSample: [Tick?]

    init(intervalMs: Int, symbolCount: Int) {
        self.intervalMs = intervalMs
        members = Array(repeating: [], count: symbolCount)
        base = Array(repeating: 0, count: symbolCount)
        pendingAt = Array(repeating: -1, count: symbolCount)
        lastSample = Array(repeating: nil, count: symbolCount)
    }

    /// A tick of a symbol this class holds.
    @inline(__always)
    func note(_ tick: Tick) {
        let symbol = Int(tick.symbolId)
        let k = Int(pendingAt[symbol])
        if k >= 0 {
            pending.withUnsafeMutableBufferPointer { p in p[k] = LoopHub.conflate(p[k], with: tick) }
        } else {
            pendingAt[symbol] = Int32(pending.count)
            pending.append(tick)
        }
    }

    func add(_ s: Subscriber, symbol: UInt32, newest: UInt64) {
        let i = Int(symbol)
        if members[i].isEmpty && pendingAt[i] < 0 { base[i] = newest }
        members[i].append(Unmanaged.passUnretained(s))
        subscriptionCount += 1
    }

    func remove(_ s: Subscriber, symbol: UInt32) {
        let i = Int(symbol)
        guard members[i].removeSubscriber(s) else { return }
        subscriptionCount -= 1
    }

    /// The sequence of the last record `s` got of `symbol` from this class.
    func lastSequence(of s: Subscriber, symbol: UInt32) -> UInt64 {
        s.throttleBase[symbol] ?? base[Int(symbol)]
    }
}
