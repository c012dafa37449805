import MarketData

/// Delta subscribers (`?encoding=delta`): the same rounds, slots and
/// samples as raw ones, with records in `TickDelta` form. Each round tick's
/// delta against the loop's previous record of its symbol is encoded once
/// (`RoundTable.appendDelta`) and copied to every delta subscriber whose
/// last record of the symbol is that reference (`Subscriber.deltaSent`);
/// any other gets the keyframe. Whole messages (snapshots, slots, replays,
/// bridges) start each symbol with a keyframe.
extension LoopHub {
    /// `s` takes every tick of `symbol` (interval 0).
    func addLive(_ s: Subscriber, _ symbol: UInt32) {
        if s.isDelta {
            deltaIndex[Int(symbol)].append(Unmanaged.passUnretained(s))
        } else {
            index[Int(symbol)].append(Unmanaged.passUnretained(s))
        }
        s.liveSymbols.append(symbol)
    }

    /// Leaves the live index (the caller updates `liveSymbols`).
    func removeLive(_ s: Subscriber, _ symbol: UInt32) {
        if s.isDelta {
            deltaIndex[Int(symbol)].removeSubscriber(s)
        } else {
            index[Int(symbol)].removeSubscriber(s)
        }
    }

    /// Called by `add` for every round tick while the loop has delta subscribers.
    @inline(__always)
    func noteDelta(_ tick: Tick, previous: Tick?, fanout: Int) {
        round.appendDelta(tick, previous: previous, sendTimeNs: roundSendTime, encode: fanout > 0)
    }

    /// Round tick `k` to a delta subscriber (batched delivery only).
    @inline(__always)
    func deliverDelta(_ s: Subscriber, k: Int) {
        let tick = round.ticks[k]
        if isBehind(s) {
            slotDeltaTick(s, tick)
            return
        }
        roundQueued &+= 1
        let symbol = Int(tick.symbolId)
        let closed: Int
        if k < round.reference.count, round.reference[k] != 0, s.deltaSent[symbol] == round.reference[k] {
            let start = Int(round.deltaStart[k])
            let count = Int(round.deltaEnd[k]) - start
            closed = round.deltas.withUnsafeBytes {
                writer.appendLiveDelta($0.baseAddress! + start, count: count, to: s.outbox, sendTimeNs: roundSendTime)
            }
        } else {
            closed = appendKeyframe(s, tick, sendTimeNs: roundSendTime)
        }
        s.deltaSent[symbol] = tick.sequence
        if closed > 0 {
            counters.messagesQueued &+= 1
            counters.bytesQueued &+= UInt64(closed)
        }
    }

    /// A round's or a sample's tick for a delta subscriber that is behind.
    /// After `foldDeltaBacklog` slotted the loop's newest tick of a symbol in
    /// this round (or sample), every tick the round still holds for it is
    /// older in arrival order, whatever its sequence (a feed reset restarts
    /// them): dropped. Otherwise a tick no newer than its slot (a sample of
    /// the tick a fold already slotted) would count itself twice: dropped,
    /// unless it is a snapshot, which starts a new run and always goes in.
    func slotDeltaTick(_ s: Subscriber, _ tick: Tick) {
        let symbol = Int(tick.symbolId)
        if s.foldSeedEpoch == epoch, s.foldSeeded.contains(tick.symbolId) { return }
        if !tick.flags.contains(.snapshot), !s.slotOf.isEmpty, s.slotOf[symbol] >= 0,
           tick.sequence <= s.slotTicks[Int(s.slotOf[symbol])].sequence { return }
        putInSlot(s, tick)
    }

    /// A record of `s`'s own into its open message, as a keyframe; returns
    /// the bytes of a message it closed. The caller updates `deltaSent`.
    func appendKeyframe(_ s: Subscriber, _ tick: Tick, sendTimeNs: UInt64) -> Int {
        withUnsafeTemporaryAllocation(byteCount: TickDelta.maxRecordSize, alignment: 8) { scratch in
            let n = TickDelta.writeKeyframe(tick, sendTimeNs: sendTimeNs, to: scratch.baseAddress!)
            return writer.appendLiveDelta(scratch.baseAddress!, count: n, to: s.outbox, sendTimeNs: sendTimeNs)
        }
    }

    /// The fold of a delta connection that starts conflating. Its queued
    /// records cannot be decoded without its reader's state, but their
    /// sequences can be followed backwards from `deltaSent` (the last one
    /// queued per symbol), which gives what the reader will have had of each
    /// symbol once the frame being written is through. Each symbol cut off
    /// gets one slot rebuilt from the hub: the loop's newest tick (for a
    /// throttled symbol, the class sample it was last sent, so the samples
    /// that follow stay relative to it), counting what the reader missed; a
    /// snapshot cut off makes the slot a snapshot (the reader's baseline).
    func foldDeltaBacklog(_ s: Subscriber) {
        let size = s.outbox.backlogBytes
        guard size > 0, size <= foldBudget else { return }
        foldBudget -= size
        var cut: [UInt32: [TickDelta.RecordSummary]] = [:]
        var order: [UInt32] = []
        s.outbox.takeDeltaBacklog { r in
            if cut[r.symbolId] == nil { order.append(r.symbolId) }
            cut[r.symbolId, default: []].append(r)
        }
        if s.foldSeedEpoch != epoch {
            s.foldSeeded.removeAll(keepingCapacity: true)
            s.foldSeedEpoch = epoch
        }
        for symbol in order {
            let records = cut[symbol] ?? []
            counters.ticksFolded &+= UInt64(records.count)
            let i = Int(symbol)
            guard i < s.deltaSent.count, s.symbolSet.contains(symbol), var tick = lastTicks[i] else { continue }
            var had = s.deltaSent[i]
            var baseline = false
            for r in records.reversed() {
                if r.flags.contains(.snapshot) {
                    baseline = true
                    break
                }
                had = (r.keyframeSequence ?? had) &- 1 &- UInt64(r.conflatedCount)
            }
            if let ms = s.intervals[symbol], let cls = classes[ms] {
                if let sample = cls.lastSample[i], sample.sequence == s.deltaSent[i] {
                    tick = sample
                } else {
                    s.throttleBase[symbol] = tick.sequence != cls.base[i] ? tick.sequence : nil
                }
            }
            // Not after what the reader will have had: the feed restarted its
            // sequences (or `had` is unknown); a declared new baseline.
            if tick.sequence <= had { baseline = true }
            tick.conflatedCount = tick.sequence > had ? UInt32(clamping: tick.sequence - had - 1) : 0
            tick.flags = tick.conflatedCount > 0 ? [.conflated] : []
            if baseline { tick.flags.insert(.snapshot) }
            s.deltaSent[i] = had
            putInSlot(s, tick)
            s.foldSeeded.insert(symbol)
        }
    }

    /// Whole messages to a delta subscriber; its `deltaSent` follows them.
    func appendDeltaMessage(_ s: Subscriber, ticks: [Tick], sendTimeNs: UInt64) -> (messages: Int, bytes: Int) {
        for tick in ticks where Int(tick.symbolId) < s.deltaSent.count { s.deltaSent[Int(tick.symbolId)] = tick.sequence }
        return writer.appendDeltaMessages(ticks, to: s.outbox.queue, sendTimeNs: sendTimeNs)
    }

    /// One sample record of a throttle class to a delta member: the delta
    /// against the class's previous sample when that is the member's last
    /// record of the symbol, else the keyframe; each encoded at most once
    /// per sample, for every member. Returns the bytes of a message it closed.
    func appendSample(_ s: Subscriber, _ tick: Tick, shared: inout SharedSample, sendTimeNs: UInt64) -> Int {
        let symbol = Int(tick.symbolId)
        let bytes: [UInt8]
        if let previous = shared.previous, s.deltaSent[symbol] == previous.sequence {
            if shared.delta.isEmpty { TickDelta.appendRecord(tick, reference: previous, sendTimeNs: sendTimeNs, to: &shared.delta) }
            bytes = shared.delta
        } else {
            if shared.keyframe.isEmpty { TickDelta.appendRecord(tick, reference: nil, sendTimeNs: sendTimeNs, to: &shared.keyframe) }
            bytes = shared.keyframe
        }
        s.deltaSent[symbol] = tick.sequence
        return bytes.withUnsafeBytes {
            writer.appendLiveDelta($0.baseAddress!, count: $0.count, to: s.outbox, sendTimeNs: sendTimeNs)
        }
    }
}

/// A throttle sample's two forms for delta members, each encoded on first need.
struct SharedSample {
    private(set) var previous: Tick?
    var delta: [UInt8] = []
    var keyframe: [UInt8] = []

    mutating func start(previous: Tick?) {
        self.previous = previous
        delta.removeAll(keepingCapacity: true)
        keyframe.removeAll(keepingCapacity: true)
    }
}
