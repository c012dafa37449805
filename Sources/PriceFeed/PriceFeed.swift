import MarketData
import SplitMix

/// Deterministic simulated market. A value type driven entirely by the
/// caller's clock: `advance(to:)` emits every event scheduled up to that
/// time, so output depends only on the seed and the event times, never on
/// how often or how late advance is called. Not thread-safe by design; one
/// owner (the server's feed loop) drives it.
public struct PriceFeed: Sendable {
    public let symbols: SymbolTable
    public let config: PriceFeedConfig
    private var simulators: [SymbolSimulator]
    private var schedule: TickSchedule

    public init(symbols: SymbolTable, config: PriceFeedConfig) throws(PriceFeedConfigError) {
        try config.validate()
        self.symbols = symbols
        self.config = config
        var mixer = SplitMix64(seed: config.seed)
        var simulators: [SymbolSimulator] = []
        var entries: [TickSchedule.Entry] = []
        simulators.reserveCapacity(symbols.count)
        entries.reserveCapacity(symbols.count)
        for info in symbols.all {
            let weight = ActivityProfile.weight(rank: Int(info.id), count: symbols.count)
            var simulator = SymbolSimulator(
                info: info, meanGapNs: config.meanIntervalMs * 1e6 / weight, startTimeNs: config.startTimeNs,
                generator: Xoshiro256StarStar(seeding: &mixer))
            // The first event is a full random gap after the start, so the
            // symbols do not all fire together at start-up.
            let first = Self.adding(simulator.nextGapNs(), to: config.startTimeNs)
            entries.append(TickSchedule.Entry(timeNs: first, symbolId: info.id))
            simulators.append(simulator)
        }
        self.simulators = simulators
        self.schedule = TickSchedule(entries)
    }

    /// Appends, in time order (ties by symbol id), every tick scheduled at or
    /// before `nowNs`. Allocation-free apart from growing `ticks`.
    public mutating func advance(to nowNs: UInt64, into ticks: inout [Tick]) {
        // UInt64.max means "never" (a saturated schedule), not a real time.
        while let next = schedule.earliest, next.timeNs <= nowNs, next.timeNs != .max {
            let index = Int(next.symbolId)
            ticks.append(simulators[index].step(at: next.timeNs))
            schedule.rescheduleEarliest(at: Self.adding(simulators[index].nextGapNs(), to: next.timeNs))
        }
    }

    /// Like `advance(to:into:)` but emits at most `limit` ticks; returns
    /// false when it stopped at the limit with events still due.
    @discardableResult
    public mutating func advance(to nowNs: UInt64, into ticks: inout [Tick], limit: Int) -> Bool {
        var emitted = 0
        while let next = schedule.earliest, next.timeNs <= nowNs, next.timeNs != .max {
            if emitted == limit { return false }
            let index = Int(next.symbolId)
            ticks.append(simulators[index].step(at: next.timeNs))
            schedule.rescheduleEarliest(at: Self.adding(simulators[index].nextGapNs(), to: next.timeNs))
            emitted += 1
        }
        return true
    }

    /// Moves the model to `timeNs` without emitting the events due before
    /// it: every symbol whose next event is earlier draws a new one after
    /// `timeNs`, and its next tick then covers the whole gap in one step of
    /// the walk. Sequence numbers stay contiguous (no tick was made); only
    /// the price path differs from an unhurried run. This is what a driver
    /// calls when it cannot keep the schedule, instead of emitting a burst.
    public mutating func skip(to timeNs: UInt64) {
        schedule.rescheduleAll { entry in
            guard entry.timeNs < timeNs else { return }
            entry.timeNs = Self.adding(simulators[Int(entry.symbolId)].nextGapNs(), to: timeNs)
        }
    }

    /// The latest tick of a symbol (the snapshot a new subscriber gets), or
    /// nil before its first event.
    public func lastTick(symbolId: UInt32) -> Tick? {
        let tick = simulators[Int(symbolId)].lastTick
        return tick.sequence == 0 ? nil : tick
    }

    /// When the next tick is due, letting a driver sleep precisely.
    public var nextEventTimeNs: UInt64? { schedule.earliest?.timeNs }

    /// The mean gap between this symbol's ticks after its activity weighting.
    public func meanIntervalNs(symbolId: UInt32) -> Double {
        simulators[Int(symbolId)].meanGapNs
    }

    private static func adding(_ gap: UInt64, to time: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(gap)
        return overflow ? UInt64.max : sum
    }
}
