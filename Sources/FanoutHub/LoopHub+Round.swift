import MarketData

extension LoopHub {
    /// The round's ticks reach their subscribers in one of two orders, the
    /// cheaper for its shape. Tick by tick (each tick walks its symbol's
    /// subscribers) when the round is small. Subscriber by subscriber (each
    /// walks its own symbols' chains in the round table) when there are
    /// more (tick, subscriber) pairs than twice the subscribers: a loop that
    /// fell behind gets big folded rounds in which nearly every symbol
    /// ticked, and then each subscriber's state is touched once per round,
    /// not once per tick: the tick-by-tick walk costs a cache miss per pair.
    /// Either way each subscriber gets its symbols' records in their
    /// sequence order. One-tick-per-message rounds go the same way.
    func fanOutRound() {
        let perTick = settings.delivery == .perTick
        // What `deliver` copies: the tick's record into an open message, or
        // its whole pre-framed message.
        (perTick ? round.frames : round.records).withUnsafeBytes { raw in
            let payloads = raw.baseAddress!
            if round.pairs > 2 * subscriberCount {
                for slot in subscribers.indices {
                    guard let s = subscribers[slot] else { continue }
                    if s.isDelta {
                        deliverDeltaRound(s)
                        continue
                    }
                    s.liveSymbols.withUnsafeBufferPointer { symbols in
                        for symbol in symbols {
                            var k = round.head[Int(symbol)]
                            while k >= 0 {
                                deliver(s, k: Int(k), payloads: payloads, perTick: perTick)
                                k = round.next[Int(k)]
                            }
                        }
                    }
                }
            } else {
                for k in 0..<round.ticks.count {
                    index[Int(round.ticks[k].symbolId)].withUnsafeBufferPointer { list in
                        for ref in list { ref._withUnsafeGuaranteedRef { deliver($0, k: k, payloads: payloads, perTick: perTick) } }
                    }
                    guard deltaSubscribers > 0 else { continue }
                    deltaIndex[Int(round.ticks[k].symbolId)].withUnsafeBufferPointer { list in
                        for ref in list { ref._withUnsafeGuaranteedRef { deliverDelta($0, k: k) } }
                    }
                }
            }
        }
        counters.ticksQueued &+= roundQueued
        if perTick {
            counters.messagesQueued &+= roundQueued
            counters.bytesQueued &+= roundQueued &* UInt64(round.frameSize)
        }
        roundQueued = 0
        round.reset()
    }

    /// Round tick `k` to one subscriber: into its open message (or, one tick
    /// per message, as its own message), or into its conflation slots once
    /// it is behind.
    @inline(__always)
    private func deliver(_ s: Subscriber, k: Int, payloads: UnsafeRawPointer, perTick: Bool) {
        // The tick is read only when it goes to a slot: read eagerly, its 64
        // bytes would be loaded and spilled for every (tick, subscriber) pair.
        if isBehind(s) {
            putInSlot(s, round.ticks[k])
            return
        }
        roundQueued &+= 1
        if perTick {
            let size = round.frameSize
            writer.appendFramed(payloads + k * size, size: size, to: s.outbox.queue, sendTimeNs: roundSendTime)
            return
        }
        let closed = writer.appendLive(payloads + k * TickWire.recordSize, to: s.outbox, sendTimeNs: roundSendTime)
        if closed > 0 {
            counters.messagesQueued &+= 1
            counters.bytesQueued &+= UInt64(closed)
        }
    }

    /// A delta subscriber's walk of the round: its live symbols' chains.
    private func deliverDeltaRound(_ s: Subscriber) {
        s.liveSymbols.withUnsafeBufferPointer { symbols in
            for symbol in symbols {
                var k = round.head[Int(symbol)]
                while k >= 0 {
                    deliverDelta(s, k: Int(k))
                    k = round.next[Int(k)]
                }
            }
        }
    }

    /// The step both delivery modes and the throttle samples share: note the
    /// subscriber as touched; true when it is behind (conflating, or its
    /// queue at the high-water mark), so the tick goes to its slots instead.
    @inline(__always)
    func isBehind(_ s: Subscriber) -> Bool {
        touch(s, nowNanos: roundNow)
        guard s.isConflating || s.queue.count >= settings.backlog.highWaterMark else { return false }
        if !s.isConflating { startConflating(s, nowNanos: roundNow) }
        return true
    }

    /// A throttle sample's tick (`LoopHub+Throttle.swift`): into the slots
    /// when the subscriber is behind. True when it went there.
    func sampleIntoSlot(_ s: Subscriber, _ tick: Tick) -> Bool {
        guard isBehind(s) else { return false }
        if s.isDelta { slotDeltaTick(s, tick) } else { putInSlot(s, tick) }
        return true
    }

    /// First time in the round: remember it, and start conflating if the
    /// oldest queued byte has waited too long (measured from the later of
    /// the backlog's start and the last fold, so one episode folds once per
    /// age period).
    @inline(__always)
    private func touch(_ s: Subscriber, nowNanos: UInt64) {
        guard s.touchedEpoch != epoch else { return }
        s.touchedEpoch = epoch
        touched.append(s)
        if !s.isConflating, s.outbox.backlogSinceNanos != 0,
           nowNanos &- max(s.outbox.backlogSinceNanos, s.conflatingSinceNanos) >= settings.backlog.maxBacklogAgeNanos {
            startConflating(s, nowNanos: nowNanos)
        }
    }
}
