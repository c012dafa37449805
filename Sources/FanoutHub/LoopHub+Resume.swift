import MarketData

/// Which of a subscribe's `from` symbols were resumed and which reset.
public struct ResumedIDs: Equatable, Sendable {
    public var resumed: [UInt32] = []
    public var reset: [UInt32] = []
    public init(resumed: [UInt32] = [], reset: [UInt32] = []) {
        self.resumed = resumed
        self.reset = reset
    }
}

extension LoopHub {
    struct ResumePlan {
        var ids = ResumedIDs()
        /// Replayed updates, each symbol's in order.
        var ticks: [Tick] = []
        var replayed: Set<UInt32> = []
        /// Per replayed symbol, the sequence of the last record queued for
        /// it (what a throttled subscription continues from).
        var sentSequence: [UInt32: UInt64] = [:]
    }

    /// Most records one subscribe may replay: a high-water mark's worth, so
    /// a resume never queues more than the connection may hold anyway.
    /// Symbols past it are reset (a snapshot each) instead.
    var maxReplayRecords: Int { max(1, settings.backlog.highWaterMark / TickWire.recordSize) }

    /// Decides, for every newly added symbol named in `from`, whether the
    /// history can replay it.
    func planResume(_ added: [UInt32], from: [UInt32: UInt64]) -> ResumePlan {
        var plan = ResumePlan()
        guard !from.isEmpty else { return plan }
        var budget = maxReplayRecords
        for id in added {
            guard let after = from[id] else { continue }
            let newest = lastTicks[Int(id)]?.sequence ?? 0
            if let history, let ticks = history.replay(symbol: id, after: after, newest: newest, limit: budget) {
                budget -= ticks.count
                plan.ticks += ticks
                plan.replayed.insert(id)
                plan.sentSequence[id] = ticks.last?.sequence ?? after
                plan.ids.resumed.append(id)
            } else if history == nil && after == newest && newest == 0 {
                // Nothing ever ticked and nothing missed: trivially resumed.
                plan.replayed.insert(id)
                plan.sentSequence[id] = 0
                plan.ids.resumed.append(id)
            } else {
                plan.ids.reset.append(id)
            }
        }
        return plan
    }
}
