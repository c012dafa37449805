import MarketData

/// Throttled subscriptions: a symbol held at an interval is not in the
/// per-symbol live index (`index`) but in its interval class's members, so
/// the per (tick, subscriber) path of interval-0 subscriptions is unchanged;
/// a tick of a throttled symbol is noted once per class, and the class's
/// timer (`sample`) sends what changed.
extension LoopHub {
    /// The intervals (ms) that have a class on this loop: the server keeps
    /// one repeating timer for each and calls `sample` when it fires.
    public var intervalClasses: [Int] { classes.keys.sorted() }

    @inline(__always)
    func noteThrottled(_ tick: Tick) {
        for cls in classes.values where !cls.members[Int(tick.symbolId)].isEmpty { cls.note(tick) }
    }

    /// Resume of a throttled symbol: not a replay but one record, the newest
    /// tick with a count covering the updates after `from` (none when the
    /// client is current). A point the loop cannot account for (ahead of its
    /// newest, another epoch) is a reset: the snapshot.
    func planThrottledResume(_ added: [UInt32], from: [UInt32: UInt64]) -> ResumePlan {
        var plan = ResumePlan()
        for id in added {
            guard let after = from[id] else { continue }
            let newest = lastTicks[Int(id)]
            let newestSeq = newest?.sequence ?? 0
            guard after <= newestSeq else {
                plan.ids.reset.append(id)
                continue
            }
            plan.ids.resumed.append(id)
            plan.replayed.insert(id)
            plan.sentSequence[id] = after
            if var tick = newest, newestSeq > after {
                tick.conflatedCount = UInt32(clamping: newestSeq - after - 1)
                tick.flags = tick.conflatedCount > 0 ? [.conflated] : []
                plan.ticks.append(tick)
                plan.sentSequence[id] = newestSeq
            }
        }
        return plan
    }

    /// `s` takes `symbol` at `intervalMs` (> 0); `lastSent` is the sequence
    /// of the last record it has (or will have, queued) of the symbol. Not
    /// the class's previous sample: a per-subscriber exception.
    func joinClass(_ s: Subscriber, _ symbol: UInt32, intervalMs: Int, lastSent: UInt64) {
        let cls: IntervalClass
        if let existing = classes[intervalMs] {
            cls = existing
        } else {
            cls = IntervalClass(intervalMs: intervalMs, symbolCount: index.count)
            classes[intervalMs] = cls
        }
        if cls.members[Int(symbol)].isEmpty { throttledClasses[Int(symbol)] += 1 }
        cls.add(s, symbol: symbol, newest: lastTicks[Int(symbol)]?.sequence ?? 0)
        s.intervals[symbol] = intervalMs
        if lastSent != cls.base[Int(symbol)] { s.throttleBase[symbol] = lastSent }
    }

    /// Returns the sequence of the last record `s` had of `symbol` from its class.
    @discardableResult
    func leaveClass(_ s: Subscriber, _ symbol: UInt32) -> UInt64 {
        guard let ms = s.intervals.removeValue(forKey: symbol), let cls = classes[ms] else { return 0 }
        let last = cls.lastSequence(of: s, symbol: symbol)
        s.throttleBase[symbol] = nil
        cls.remove(s, symbol: symbol)
        if cls.members[Int(symbol)].isEmpty { throttledClasses[Int(symbol)] -= 1 }
        if cls.subscriptionCount == 0 { classes[ms] = nil }
        return last
    }

    /// Moves a held symbol to another interval. What the subscriber has not
    /// had of it yet (a throttled symbol's ticks since its last record) goes
    /// into `bridging` as one record with a count, so from here on the new
    /// interval's records follow its sequence.
    func moveInterval(_ s: Subscriber, _ symbol: UInt32, to intervalMs: Int, bridging: inout [Tick]) {
        let newest = lastTicks[Int(symbol)]
        var last: UInt64
        if s.intervals[symbol] != nil {
            last = leaveClass(s, symbol)
            if var tick = newest, tick.sequence > last {
                tick.conflatedCount = UInt32(clamping: tick.sequence - last - 1)
                tick.flags = tick.conflatedCount > 0 ? [.conflated] : []
                bridging.append(tick)
                last = tick.sequence
            }
        } else {
            // Live until now: it has had (or has queued, or in its slots) every tick.
            removeLive(s, symbol)
            s.liveSymbols.removeAll { $0 == symbol }
            last = newest?.sequence ?? 0
        }
        if intervalMs == 0 {
            addLive(s, symbol)
        } else {
            joinClass(s, symbol, intervalMs: intervalMs, lastSent: last)
        }
    }

    /// One sample of the class at `intervalMs`: each member gets, per symbol
    /// of its that changed since the previous sample, the newest tick with
    /// the count of what it replaced, through the same path as a live record
    /// (its open message, or its conflation slots when it is behind). Returns
    /// the subscribers that got bytes (flush each once), or nil when the
    /// class is gone: its timer can be removed.
    public func sample(intervalMs: Int, sendTimeNs: UInt64, nowNanos: UInt64) -> [Subscriber]? {
        guard let cls = classes[intervalMs] else { return nil }
        beginRound(sendTimeNs: sendTimeNs, nowNanos: nowNanos)
        let perTick = settings.delivery == .perTick
        var record = [UInt8](repeating: 0, count: TickWire.recordSize)
        var shared = SharedSample()
        var queued: UInt64 = 0
        for k in cls.pending.indices {
            let tick = cls.pending[k]
            let symbol = Int(tick.symbolId)
            cls.pendingAt[symbol] = -1
            guard !cls.members[symbol].isEmpty else { continue }
            cls.base[symbol] = tick.sequence
            // Encoded once for every member whose last record is the previous
            // sample (for delta members, when the first needs it).
            record.withUnsafeMutableBytes { TickWire.writeRecord(tick, to: $0.baseAddress!) }
            shared.start(previous: cls.lastSample[symbol])
            cls.lastSample[symbol] = tick
            for ref in cls.members[symbol] {
                let s = ref.takeUnretainedValue()
                if !s.throttleBase.isEmpty, let own = s.throttleBase.removeValue(forKey: tick.symbolId) {
                    guard tick.sequence > own else { continue }
                    var mine = tick
                    mine.conflatedCount = UInt32(clamping: tick.sequence - own - 1)
                    mine.flags = mine.conflatedCount > 0 ? tick.flags.union(.conflated) : tick.flags.subtracting(.conflated)
                    if sampleIntoSlot(s, mine) { continue }
                    queued &+= 1
                    appendSample(s, mine, perTick: perTick)
                    continue
                }
                if sampleIntoSlot(s, tick) { continue }
                queued &+= 1
                if s.isDelta {
                    let closed = appendSample(s, tick, shared: &shared, sendTimeNs: sendTimeNs)
                    if closed > 0 {
                        counters.messagesQueued &+= 1
                        counters.bytesQueued &+= UInt64(closed)
                    }
                } else if perTick {
                    appendSample(s, tick, perTick: true)
                } else {
                    let closed = record.withUnsafeBytes { writer.appendLive($0.baseAddress!, to: s.outbox, sendTimeNs: sendTimeNs) }
                    if closed > 0 {
                        counters.messagesQueued &+= 1
                        counters.bytesQueued &+= UInt64(closed)
                    }
                }
            }
        }
        cls.pending.removeAll(keepingCapacity: true)
        counters.ticksQueued &+= queued
        if !perTick {
            for s in touched where s.outbox.openHeader != nil { closeMessage(s, sendTimeNs: sendTimeNs) }
        }
        return touched
    }

    /// A member's own record of a sample (an exception, or one-tick-per-message delivery).
    private func appendSample(_ s: Subscriber, _ tick: Tick, perTick: Bool) {
        if s.isDelta {
            s.deltaSent[Int(tick.symbolId)] = tick.sequence
            let closed = appendKeyframe(s, tick, sendTimeNs: roundSendTime)
            if closed > 0 {
                counters.messagesQueued &+= 1
                counters.bytesQueued &+= UInt64(closed)
            }
            return
        }
        if perTick {
            let (messages, bytes) = writer.appendMessages([tick], to: s.outbox.queue, sendTimeNs: roundSendTime)
            counters.messagesQueued &+= UInt64(messages)
            counters.bytesQueued &+= UInt64(bytes)
            return
        }
        let closed = withUnsafeTemporaryAllocation(byteCount: TickWire.recordSize, alignment: 8) { record in
            TickWire.writeRecord(tick, to: record.baseAddress!)
            return writer.appendLive(record.baseAddress!, to: s.outbox, sendTimeNs: roundSendTime)
        }
        if closed > 0 {
            counters.messagesQueued &+= 1
            counters.bytesQueued &+= UInt64(closed)
        }
    }
}
