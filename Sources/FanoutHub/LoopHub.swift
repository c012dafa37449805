import MarketData

/// Outcome of a subscribe request, for the control reply.
public enum SubscribeOutcome: Equatable, Sendable {
    /// Newly added symbol ids (already-subscribed ones are not repeated).
    case subscribed([UInt32])
    /// Taking them would pass `maxSymbolsPerConnection`; nothing changed.
    case limitExceeded(limit: Int)
}

/// Running totals of one hub, read by the metrics endpoint.
public struct HubCounters: Sendable {
    public var ticksQueued: UInt64 = 0
    public var messagesQueued: UInt64 = 0
    public var bytesQueued: UInt64 = 0
    public var conflatedUpdates: UInt64 = 0
    public var conflationEpisodes: UInt64 = 0
    /// Queued records folded back into slots when a connection started conflating.
    public var ticksFolded: UInt64 = 0
    public init() {}
}

/// The fan-out index of one event loop: symbol id → subscribers on this loop.
///
/// Each loop keeps its own hub and sees every batch, so nothing here is
/// shared or locked: a tick reaches a subscriber by a walk of a plain array
/// and a memcpy of its pre-encoded bytes.
public final class LoopHub {
    public let settings: HubSettings
    /// Per symbol, its subscribers on this loop. Unmanaged: `subscribers`
    /// owns them, and the per-record loop then does no reference counting
    /// (the profile showed retain/release dominating fan-out before).
    var index: [[Unmanaged<Subscriber>]]
    /// The same for delta subscribers (`LoopHub+Delta.swift`), so the raw
    /// per-pair path never asks which encoding a subscriber reads.
    var deltaIndex: [[Unmanaged<Subscriber>]]
    /// Delta subscribers attached: while 0, no tick is delta-encoded.
    var deltaSubscribers = 0
    var subscribers: [Subscriber?] = []
    private var freeSlots: [Int] = []
    /// Last tick seen per symbol: the snapshot a new subscriber gets first.
    public internal(set) var lastTicks: [Tick?]
    /// Interval classes of this loop by interval in ms (`LoopHub+Throttle.swift`).
    var classes: [Int: IntervalClass] = [:]
    /// Per symbol, how many classes have members holding it: a tick of a
    /// symbol at 0 costs one load here.
    var throttledClasses: [UInt16]
    var touched: [Subscriber] = []
    var epoch: UInt64 = 0
    public internal(set) var counters = HubCounters()
    /// Subscriptions held by all subscribers of this hub.
    public private(set) var subscriptionCount = 0
    /// What this loop published recently, for `subscribe` with `from`; nil
    /// when retention is off.
    public let history: TickHistory?

    /// Lays the records out in each connection's queue (frames, message
    /// headers, records); the hub only decides who gets what.
    public let writer: TickMessageWriter

    public init(symbolCount: Int, settings: HubSettings) {
        self.settings = settings
        foldBudget = settings.backlog.foldBytesPerRound
        writer = TickMessageWriter()
        index = Array(repeating: [], count: symbolCount)
        deltaIndex = Array(repeating: [], count: symbolCount)
        lastTicks = Array(repeating: nil, count: symbolCount)
        throttledClasses = Array(repeating: 0, count: symbolCount)
        round = RoundTable(symbolCount: symbolCount)
        history = settings.retentionNanos > 0
            ? TickHistory(symbolCount: symbolCount, retentionNanos: settings.retentionNanos,
                          maxTicks: settings.maxRetainedTicks)
            : nil
    }

    public var symbolCount: Int { index.count }
    public var subscriberCount: Int { subscribers.count - freeSlots.count }

    public func attach(_ s: Subscriber) {
        precondition(s.hubIndex < 0, "subscriber already attached")
        if let slot = freeSlots.popLast() {
            subscribers[slot] = s
            s.hubIndex = slot
        } else {
            s.hubIndex = subscribers.count
            subscribers.append(s)
        }
        s.isDelta = s.wantsDelta && settings.delivery != .perTick
        if s.isDelta {
            s.deltaSent = Array(repeating: 0, count: index.count)
            deltaSubscribers += 1
        }
    }

    /// Removes the subscriber from every symbol; its outbox is left to the caller.
    public func detach(_ s: Subscriber) {
        guard s.hubIndex >= 0 else { return }
        _ = unsubscribe(s, from: s.symbols)
        subscribers[s.hubIndex] = nil
        if s.isDelta { deltaSubscribers -= 1 }
        freeSlots.append(s.hubIndex)
        s.hubIndex = -1
    }

    /// Subscribes and queues a snapshot record (flag `snapshot`) for each new
    /// symbol that has ticked, so the client's next update is seq N+1.
    /// `beforeQueueing` runs once with the outcome before any snapshot is
    /// queued, so the caller's acknowledgement precedes the records.
    public func subscribe(
        _ s: Subscriber, to ids: [UInt32], intervalMs: Int = 0, sendTimeNs: UInt64,
        beforeQueueing: (SubscribeOutcome) -> Void = { _ in }
    ) -> SubscribeOutcome {
        subscribe(s, to: ids, from: [:], intervalMs: intervalMs, sendTimeNs: sendTimeNs) { outcome, _ in beforeQueueing(outcome) }
    }

    /// Subscribes; for each new symbol named in `from` (id → last sequence
    /// the client saw), the retained updates after it are queued instead of
    /// a snapshot when this loop still holds all of them (see
    /// `TickHistory.replay`), else the snapshot is queued and the symbol is
    /// reported reset. `beforeQueueing` gets the outcome and that report.
    ///
    /// `intervalMs` > 0 throttles the symbols (`IntervalClass`); a resumed
    /// throttled symbol gets one record, the newest, with a count covering
    /// what it missed. A symbol already held at another interval moves to
    /// this one (and is in the outcome): the ticks it has not had yet go
    /// out first as one record with their count, so its sequence stays whole.
    public func subscribe(
        _ s: Subscriber, to ids: [UInt32], from: [UInt32: UInt64], intervalMs: Int = 0, sendTimeNs: UInt64,
        beforeQueueing: (SubscribeOutcome, ResumedIDs) -> Void
    ) -> SubscribeOutcome {
        var added: [UInt32] = []
        var moved: [UInt32] = []
        var seen = Set<UInt32>()
        for id in ids where Int(id) < index.count && seen.insert(id).inserted {
            if !s.symbolSet.contains(id) {
                added.append(id)
            } else if s.interval(of: id) != intervalMs {
                moved.append(id)
            }
        }
        if s.symbols.count + added.count > settings.backlog.maxSymbolsPerConnection {
            let outcome = SubscribeOutcome.limitExceeded(limit: settings.backlog.maxSymbolsPerConnection)
            beforeQueueing(outcome, ResumedIDs())
            return outcome
        }
        let outcome = SubscribeOutcome.subscribed(added + moved)
        let resume = intervalMs == 0 ? planResume(added, from: from) : planThrottledResume(added, from: from)
        beforeQueueing(outcome, resume.ids)
        // Replayed updates first (each symbol's in order), then the snapshots.
        var snapshots = resume.ticks
        for id in moved { moveInterval(s, id, to: intervalMs, bridging: &snapshots) }
        for id in added {
            s.symbols.append(id)
            s.symbolSet.insert(id)
            var sent = resume.replayed.contains(id) ? resume.sentSequence[id] : nil
            if sent == nil, var tick = lastTicks[Int(id)] {
                tick.flags = [.snapshot]
                tick.conflatedCount = 0
                snapshots.append(tick)
                sent = tick.sequence
            }
            if intervalMs == 0 {
                addLive(s, id)
            } else {
                joinClass(s, id, intervalMs: intervalMs, lastSent: sent ?? 0)
            }
        }
        subscriptionCount += added.count
        if s.isConflating {
            for tick in snapshots { putInSlot(s, tick) }
        } else if !snapshots.isEmpty {
            appendMessage(s, ticks: snapshots, sendTimeNs: sendTimeNs)
        }
        return outcome
    }

    /// Unsubscribes; returns the ids that were subscribed. Records already
    /// queued stay queued (they precede the reply); nothing newer is sent.
    public func unsubscribe(_ s: Subscriber, from ids: [UInt32]) -> [UInt32] {
        var removed: [UInt32] = []
        for id in ids where s.symbolSet.contains(id) {
            s.symbolSet.remove(id)
            removed.append(id)
            if s.intervals[id] != nil {
                leaveClass(s, id)
            } else {
                removeLive(s, id)
            }
            if s.isDelta { s.deltaSent[Int(id)] = 0 }
            if !s.slotOf.isEmpty, s.slotOf[Int(id)] >= 0 {
                let k = Int(s.slotOf[Int(id)])
                s.slotOf[Int(id)] = -1
                let last = s.slotTicks.count - 1
                if k != last {
                    s.slotTicks[k] = s.slotTicks[last]
                    s.slotOf[Int(s.slotTicks[k].symbolId)] = Int32(k)
                }
                s.slotTicks.removeLast()
            }
        }
        if !removed.isEmpty {
            let gone = Set(removed)
            s.symbols.removeAll { gone.contains($0) }
            s.liveSymbols.removeAll { gone.contains($0) }
            subscriptionCount -= removed.count
        }
        return removed
    }

    /// Fans a batch out to this loop's subscribers and returns the ones that
    /// got bytes; the caller flushes each of them once. The returned array is
    /// reused by the next call. Same as one round with one batch.
    public func publish(_ batch: TickBatch, sendTimeNs: UInt64, nowNanos: UInt64) -> [Subscriber] {
        beginRound(sendTimeNs: sendTimeNs, nowNanos: nowNanos)
        add(batch)
        return endRound()
    }

    var roundSendTime: UInt64 = 0
    var roundNow: UInt64 = 0
    var round: RoundTable
    var roundQueued: UInt64 = 0

    /// Starts a round: every batch added until `endRound` goes into one open
    /// message per subscriber, however many batches the wake-up found, so a
    /// connection gets one message (and the caller one write) per round.
    public func beginRound(sendTimeNs: UInt64, nowNanos: UInt64) {
        epoch &+= 1
        touched.removeAll(keepingCapacity: true)
        roundSendTime = sendTimeNs
        roundNow = nowNanos
        foldBudget = settings.backlog.foldBytesPerRound
    }

    /// Backlog bytes this round may still fold (`BacklogPolicy.foldBytesPerRound`).
    var foldBudget = 0

    /// Fans the round out (`LoopHub+Round.swift`), closes every open
    /// message and returns the subscribers that got bytes this round
    /// (reused by the next round).
    public func endRound() -> [Subscriber] {
        if !round.ticks.isEmpty { fanOutRound() }
        if settings.delivery != .perTick {
            for s in touched where s.outbox.openHeader != nil { closeMessage(s, sendTimeNs: roundSendTime) }
        }
        return touched
    }

    /// Adds one batch to the current round: the history and the snapshots
    /// take it at once; the round's subscribers get it at `endRound`, with
    /// every other batch of the round, in one open message each (batched
    /// delivery) or as each tick's pre-framed message (one tick per message).
    public func add(_ batch: TickBatch) {
        history?.append(batch, nowNanos: roundNow)
        let perTick = settings.delivery == .perTick
        precondition(!perTick || (batch.frameSize > 0 && batch.frames.count == batch.count * batch.frameSize),
                     "per-tick delivery needs a batch built with perTickFrames: true")
        batch.records.withUnsafeBytes { records in
            batch.frames.withUnsafeBytes { frames in
                for i in 0..<batch.ticks.count {
                    let symbol = Int(batch.ticks[i].symbolId)
                    guard symbol < index.count else { continue }
                    let previous = deltaSubscribers > 0 ? lastTicks[symbol] : nil
                    lastTicks[symbol] = batch.ticks[i]
                    // Per tick, not per subscriber: the throttled subscribers
                    // of the symbol are its classes' business.
                    if throttledClasses[symbol] != 0 { noteThrottled(batch.ticks[i]) }
                    let fanout = index[symbol].count
                    let deltaFanout = deltaSubscribers > 0 ? deltaIndex[symbol].count : 0
                    guard fanout + deltaFanout > 0 else { continue }
                    if perTick {
                        round.append(batch.ticks[i], frame: frames.baseAddress! + i * batch.frameSize,
                                     size: batch.frameSize, fanout: fanout)
                    } else {
                        round.append(batch.ticks[i], record: records.baseAddress! + i * TickWire.recordSize,
                                     fanout: fanout + deltaFanout)
                    }
                    if deltaSubscribers > 0 { noteDelta(batch.ticks[i], previous: previous, fanout: deltaFanout) }
                }
            }
        }
    }

    /// Call after a flush: once a conflating subscriber's queue is below the
    /// low-water mark, its conflated ticks go out as one message and it is
    /// back to normal delivery. Returns true when bytes were queued.
    @discardableResult
    public func drain(_ s: Subscriber, sendTimeNs: UInt64) -> Bool {
        guard s.isConflating, s.outbox.count <= settings.backlog.lowWaterMark else { return false }
        s.isConflating = false
        guard !s.slotTicks.isEmpty else { return false }
        let ticks = s.slotTicks
        s.slotTicks.removeAll(keepingCapacity: false)
        s.slotOf = []
        appendMessage(s, ticks: ticks, sendTimeNs: sendTimeNs)
        return true
    }

    /// The connection fell behind (too many bytes, or bytes queued too
    /// long): from now on it keeps the newest tick per symbol, and what it
    /// had queued but not started writing is folded into those slots too, so
    /// the next thing it reads is current, not the stale backlog.
    func startConflating(_ s: Subscriber, nowNanos: UInt64) {
        if s.outbox.openHeader != nil { closeMessage(s, sendTimeNs: roundSendTime) }
        s.isConflating = true
        s.conflatingSinceNanos = nowNanos
        counters.conflationEpisodes &+= 1
        if s.isDelta { foldDeltaBacklog(s) } else { foldBacklog(s) }
        s.outbox.queue.releaseSpare()
    }

    /// Replaces the queued frames after the one being written: the outbox
    /// hands back its queued tick records (keeping every other frame in
    /// order), and those of symbols still subscribed become conflation slots.
    private func foldBacklog(_ s: Subscriber) {
        let size = s.outbox.backlogBytes
        guard size > 0, size <= foldBudget else { return }
        foldBudget -= size
        var folded: UInt64 = 0
        s.outbox.takeBacklog { tick in
            guard s.symbolSet.contains(tick.symbolId) else { return }
            putInSlot(s, tick)
            folded &+= 1
        }
        counters.ticksFolded &+= folded
    }

    /// Empties the queue behind the frame being written and the slots, so
    /// that a close frame queued next is the next thing the peer reads.
    public func discardBacklog(_ s: Subscriber) {
        if s.outbox.openHeader != nil { closeMessage(s, sendTimeNs: roundSendTime) }
        s.outbox.discardBacklog()
        s.slotTicks.removeAll(keepingCapacity: false)
        s.slotOf = []
        s.isConflating = false
    }

    /// Keeps the newest tick per symbol. The count says how many updates
    /// the slot swallowed (including any the incoming tick had already
    /// swallowed upstream), so the client can account for the sequence jump;
    /// a snapshot stays flagged as one (the client's new baseline).
    func putInSlot(_ s: Subscriber, _ tick: Tick) {
        let symbol = Int(tick.symbolId)
        if s.slotOf.isEmpty { s.slotOf = Array(repeating: -1, count: index.count) }
        let k = Int(s.slotOf[symbol])
        if k >= 0 {
            s.slotTicks.withUnsafeMutableBufferPointer { slots in slots[k] = Self.conflate(slots[k], with: tick) }
            s.conflatedTotal &+= 1
            counters.conflatedUpdates &+= 1
        } else {
            s.slotOf[symbol] = Int32(s.slotTicks.count)
            s.slotTicks.append(tick)
        }
    }

    /// The newer tick standing for both: its values, both ticks' flags plus
    /// `conflated`, and a count covering the older one and all it swallowed.
    /// The one merge rule for every level that conflates (loop, connection).
    @inline(__always)
    public static func conflate(_ older: Tick, with newer: Tick) -> Tick {
        var merged = newer
        merged.flags = older.flags.union(newer.flags).union(.conflated)
        merged.conflatedCount = addCounts(older.conflatedCount, newer.conflatedCount)
        return merged
    }

    /// `old + 1 + new`, saturating: a wrapped count would hide a gap, a
    /// saturated one still declares one (the client sees a jump it was told of).
    public static func addCounts(_ old: UInt32, _ new: UInt32) -> UInt32 {
        let (sum, overflow) = UInt64(old).addingReportingOverflow(1 + UInt64(new))
        return overflow || sum > UInt64(UInt32.max) ? .max : UInt32(sum)
    }

    func closeMessage(_ s: Subscriber, sendTimeNs: UInt64) {
        let bytes = writer.close(s.outbox, sendTimeNs: sendTimeNs)
        guard bytes > 0 else { return }
        counters.messagesQueued &+= 1
        counters.bytesQueued &+= UInt64(bytes)
    }

    /// Queues `ticks` as complete messages (snapshots, conflated slots, replayed updates).
    func appendMessage(_ s: Subscriber, ticks: [Tick], sendTimeNs: UInt64) {
        let (messages, bytes) = s.isDelta
            ? appendDeltaMessage(s, ticks: ticks, sendTimeNs: sendTimeNs)
            : writer.appendMessages(ticks, to: s.outbox.queue, sendTimeNs: sendTimeNs)
        counters.ticksQueued &+= UInt64(ticks.count)
        counters.messagesQueued &+= UInt64(messages)
        counters.bytesQueued &+= UInt64(bytes)
    }
}
