import MarketData
import Testing
import WebSocketProtocol
@testable import FanoutHub

/// Decodes a delta subscriber's bytes; every binary message must be type 2.
private func deltaTicks(_ bytes: [UInt8], _ decoder: inout TickDeltaDecoder) throws -> [Tick] {
    try frames(bytes).filter { $0.header.opcode == .binary }.flatMap { frame in
        #expect(frame.payload.count > 1 && frame.payload[1] == TickDelta.messageType)
        return try decoder.decodeMessage(frame.payload).ticks
    }
}

/// A random walk of one symbol's ticks, folded now and then as a loop does.
private struct Walk {
    var rng = SplitMixLike(seed: 7)
    var last: [Tick]

    init(symbols: Int) {
        last = (0..<symbols).map { Tick(symbolId: UInt32($0), priceExponent: $0 == 3 ? -4 : -2, sequence: 0,
                                        eventTimeNs: 1_000_000, bid: 10_000, ask: 10_002, last: 10_001,
                                        bidSize: 100, askSize: 200, lastSize: 100) }
    }

    mutating func next(_ symbol: Int) -> Tick {
        var t = last[symbol]
        let fold = rng.below(5) == 0
        t.conflatedCount = fold ? UInt32(1 + rng.below(4)) : 0
        t.flags = fold ? [.conflated] : []
        t.sequence += 1 + UInt64(t.conflatedCount)
        t.eventTimeNs += 1 + rng.below(3_000_000)
        t.bid += Int64(rng.below(7)) - 3
        t.ask = t.bid + 1 + Int64(rng.below(2) == 0 ? 1 : 2)
        t.last = rng.below(2) == 0 ? t.bid : t.ask
        if rng.below(2) == 0 { t.bidSize = 100 * UInt32(1 + rng.below(10)) }
        t.lastSize = 100 * UInt32(1 + rng.below(5))
        last[symbol] = t
        return t
    }
}

extension Tick {
    /// The same values with `other`'s flags and count (a conflated copy).
    fileprivate func withFlags(of other: Tick?) -> Tick {
        var t = self
        t.flags = other?.flags ?? []
        t.conflatedCount = other?.conflatedCount ?? 0
        return t
    }
}

private struct SplitMixLike {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func below(_ n: UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) % n
    }
}

/// A hub with one delta subscriber that conflates past `highWater` queued bytes.
private func slowDeltaReader(symbols: Int, highWater: Int) -> (LoopHub, Subscriber) {
    var settings = HubSettings()
    settings.backlog.highWaterMark = highWater
    settings.backlog.lowWaterMark = 0
    let hub = LoopHub(symbolCount: symbols, settings: settings)
    let s = Subscriber(outbox: Outbox(), delta: true)
    hub.attach(s)
    return (hub, s)
}

/// A slow delta subscriber's reader: what it reads, decoded in order.
private struct DeltaReader {
    var decoder = TickDeltaDecoder()
    var seen: [Tick] = []

    mutating func read(_ s: Subscriber) throws { seen += try deltaTicks(drainAll(s), &decoder) }

    /// Reads what is queued, lets the hub drain `s` (true: it caught up) and reads what that queued.
    @discardableResult
    mutating func catchUp(_ hub: LoopHub, _ s: Subscriber, sendTimeNs: UInt64) throws -> Bool {
        try read(s)
        let caughtUp = hub.drain(s, sendTimeNs: sendTimeNs)
        try read(s)
        return caughtUp
    }
}

/// Each symbol's last record read carries the walk's newest values.
private func expectNewestValues(_ seen: [Tick], _ walk: Walk) {
    for symbol in walk.last.indices {
        let last = seen.last { $0.symbolId == UInt32(symbol) }
        #expect(last == walk.last[symbol].withFlags(of: last))
    }
}

@Suite struct DeltaHubTests {
    /// A raw and a delta subscriber of the same hub receive the same
    /// records (live, loop folds, snapshots on subscribe, throttle samples,
    /// moves between intervals), whichever walk the round takes.
    @Test(arguments: [1, 40])
    func rawAndDeltaReceiveTheSameRecords(ticksPerRound: Int) throws {
        let symbols = 6
        let hub = LoopHub(symbolCount: symbols, settings: HubSettings())
        let raw = Subscriber(outbox: Outbox()), delta = Subscriber(outbox: Outbox(), delta: true)
        hub.attach(raw)
        hub.attach(delta)
        #expect(delta.isDelta && !raw.isDelta)
        var walk = Walk(symbols: symbols)
        var decoder = TickDeltaDecoder()
        var rawTicks: [Tick] = [], deltaTicksSeen: [Tick] = []
        var deltaBytes = 0, records = 0
        func read() throws {
            rawTicks += try ticksIn(frames(drainAll(raw)))
            let bytes = drainAll(delta)
            deltaBytes += bytes.count
            deltaTicksSeen += try deltaTicks(bytes, &decoder)
        }
        for s in [raw, delta] { _ = hub.subscribe(s, to: [0, 1, 2], sendTimeNs: 5) }
        for round in 1...200 {
            var ticks: [Tick] = []
            for _ in 0..<ticksPerRound { ticks.append(walk.next(Int(walk.rng.below(UInt64(symbols))))) }
            let now = UInt64(round) * 10_000_000
            _ = hub.publish(TickBatch(ticks: ticks, sendTimeNs: now), sendTimeNs: now + 500_000, nowNanos: now)
            switch round {
            case 20: for s in [raw, delta] { _ = hub.subscribe(s, to: [3, 4], sendTimeNs: now + 600_000) }
            case 50: for s in [raw, delta] { _ = hub.subscribe(s, to: [5, 1], intervalMs: 250, sendTimeNs: now + 600_000) }
            case 120: for s in [raw, delta] { _ = hub.subscribe(s, to: [1], sendTimeNs: now + 600_000) }
            case 150: for s in [raw, delta] { _ = hub.unsubscribe(s, from: [0]) }
            case 160: for s in [raw, delta] { _ = hub.subscribe(s, to: [0], sendTimeNs: now + 600_000) }
            default: break
            }
            if round % 25 == 0 { _ = hub.sample(intervalMs: 250, sendTimeNs: now + 700_000, nowNanos: now + 1) }
            if round % 3 == 0 { try read() }
        }
        try read()
        records = deltaTicksSeen.count
        #expect(records > 100)
        #expect(deltaTicksSeen == rawTicks)
        #expect(sequenceViolations(deltaTicksSeen) == 0)
        #expect(!raw.isConflating && !delta.isConflating)
        // Not the feed's figure (this walk changes more fields), a sanity
        // bound where framing is shared by many records.
        if ticksPerRound > 1 { #expect(Double(deltaBytes) / Double(records) < 12, "\(deltaBytes) bytes for \(records) records") }
    }

    /// A delta subscriber that falls behind conflates: its queued records
    /// are folded (rebuilt from the hub's newest ticks, counting what the
    /// reader missed), its slots go out as keyframes, and the sequence rule
    /// holds across them.
    @Test func aSlowDeltaReaderConflatesWithTheSequenceWhole() throws {
        let (hub, s) = slowDeltaReader(symbols: 3, highWater: 400)
        _ = hub.subscribe(s, to: [0, 1, 2], sendTimeNs: 1)
        var walk = Walk(symbols: 3)
        var reader = DeltaReader()
        for round in 1...300 {
            let ticks = (0..<3).map { walk.next($0) }
            _ = hub.publish(TickBatch(ticks: ticks, sendTimeNs: 1), sendTimeNs: UInt64(round) * 1_000, nowNanos: UInt64(round))
            if round % 50 == 0 {
                #expect(s.isConflating)
                #expect(s.outbox.queue.count < 400, "the backlog was folded: \(s.outbox.queue.count) bytes queued")
                #expect(try reader.catchUp(hub, s, sendTimeNs: UInt64(round) * 1_000 + 1))
            }
        }
        #expect(sequenceViolations(reader.seen) == 0)
        #expect(hub.counters.ticksFolded > 0)
        #expect(reader.seen.contains { $0.conflatedCount > 0 && $0.flags.contains(.conflated) })
        expectNewestValues(reader.seen, walk)
    }

    /// A feed reset (a published snapshot restarting a symbol's sequences)
    /// while a delta reader conflates: in a later round (the slot holds the
    /// old run) and inside the round that folds its backlog (old-run, reset
    /// and new-run ticks of one symbol in one batch). The reader sees the
    /// reset as a new baseline, never a sequence going backwards, and ends
    /// on the feed's newest values.
    @Test(arguments: [false, true])
    func aFeedResetReachesAConflatingDeltaReader(resetInTheFoldingRound: Bool) throws {
        let (hub, s) = slowDeltaReader(symbols: 3, highWater: 400)
        _ = hub.subscribe(s, to: [0, 1, 2], sendTimeNs: 1)
        var walk = Walk(symbols: 3)
        var reader = DeltaReader()
        for round in 1...200 {
            var ticks = (0..<3).map { walk.next($0) }
            if round == 120 {
                // Symbol 1 restarts at sequence 1 (a snapshot), then 2.
                var reset = walk.next(1)
                reset.sequence = 1
                reset.flags = [.snapshot]
                reset.conflatedCount = 0
                reset.bid += 500
                walk.last[1] = reset
                let after = walk.next(1)
                ticks += resetInTheFoldingRound ? [reset, after] : []
                if !resetInTheFoldingRound { ticks = [ticks[0], reset, ticks[2], after] }
            }
            _ = hub.publish(TickBatch(ticks: ticks, sendTimeNs: 1), sendTimeNs: UInt64(round) * 1_000, nowNanos: UInt64(round))
            // Read rarely before the reset (the reader is conflating when it
            // comes), then often: the reset round's fold finds a backlog.
            if round % 50 == 0 || (round > 120 && round % 5 == 0) {
                try reader.catchUp(hub, s, sendTimeNs: UInt64(round) * 1_000 + 1)
            }
        }
        try reader.read(s)
        let seen = reader.seen
        #expect(sequenceViolations(seen) == 0)
        let ones = seen.filter { $0.symbolId == 1 }
        let firstAfterReset = try #require(ones.indices.dropFirst().first { ones[$0].sequence < ones[$0 - 1].sequence })
        #expect(ones[firstAfterReset].flags.contains(.snapshot), "the reset arrives as a baseline: \(ones[firstAfterReset])")
        expectNewestValues(seen, walk)
    }

    /// Two delta subscribers of the same symbols get the same bytes: each
    /// live record's delta is encoded once per loop and copied; after its
    /// snapshot (a keyframe) every live record is a delta of a few bytes.
    @Test func deltaSubscribersShareTheLoopsBytes() throws {
        let hub = LoopHub(symbolCount: 4, settings: HubSettings())
        let a = Subscriber(outbox: Outbox(), delta: true), b = Subscriber(outbox: Outbox(), delta: true)
        hub.attach(a)
        hub.attach(b)
        _ = hub.publish(TickBatch(ticks: [tick(0, 1), tick(1, 1)], sendTimeNs: 1), sendTimeNs: 10, nowNanos: 1)
        for s in [a, b] { _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 20) }
        let snapshots = drainAll(a)
        #expect(snapshots == drainAll(b))
        _ = hub.publish(TickBatch(ticks: [tick(0, 2), tick(1, 2), tick(0, 3)], sendTimeNs: 1), sendTimeNs: 30, nowNanos: 2)
        let live = drainAll(a)
        #expect(live == drainAll(b))
        // Frame header 2, message header 16, three records of 5 bytes: symbol,
        // presence, time (2 bytes: the event time is 972+ ns after the send
        // time in this fixture), bid moved by one tick.
        #expect(live.count == 2 + 16 + 3 * 5, "\(live.count)")
        var decoder = TickDeltaDecoder()
        var seen = try deltaTicks(snapshots, &decoder)
        seen += try deltaTicks(live, &decoder)
        var snapshot0 = tick(0, 1), snapshot1 = tick(1, 1)
        snapshot0.flags = .snapshot
        snapshot1.flags = .snapshot
        #expect(seen == [snapshot0, snapshot1, tick(0, 2), tick(0, 3), tick(1, 2)] || seen == [snapshot0, snapshot1, tick(0, 2), tick(1, 2), tick(0, 3)])
    }

    /// Throttled and live symbols of a slow delta reader, folded mid-round
    /// and drained: the sequence rule holds, and the samples after the
    /// drain follow it.
    @Test(arguments: [1, 2, 5])
    func aSlowThrottledDeltaReaderKeepsTheSequenceWhole(readEvery: Int) throws {
        let (hub, s) = slowDeltaReader(symbols: 4, highWater: 120)
        var walk = Walk(symbols: 4)
        _ = hub.publish(TickBatch(ticks: (0..<4).map { walk.next($0) }, sendTimeNs: 1), sendTimeNs: 1, nowNanos: 1)
        _ = hub.subscribe(s, to: [0, 1], intervalMs: 250, sendTimeNs: 2)
        _ = hub.subscribe(s, to: [2, 3], sendTimeNs: 2)
        var reader = DeltaReader()
        for round in 1...400 {
            let ticks = (0..<8).map { _ in walk.next(Int(walk.rng.below(4))) }
            let now = UInt64(round) * 1_000
            _ = hub.publish(TickBatch(ticks: ticks, sendTimeNs: 1), sendTimeNs: now, nowNanos: now)
            if round % 3 == 0 { _ = hub.sample(intervalMs: 250, sendTimeNs: now + 1, nowNanos: now + 1) }
            if round % (10 * readEvery) == 0 { try reader.catchUp(hub, s, sendTimeNs: now + 2) }
        }
        #expect(hub.counters.ticksFolded > 0)
        #expect(sequenceViolations(reader.seen) == 0)
        #expect(Set(reader.seen.map(\.symbolId)) == [0, 1, 2, 3])
    }

    /// One tick per message: a delta request is raw.
    @Test func perTickDeliveryIsRaw() {
        var settings = HubSettings()
        settings.delivery = .perTick
        let hub = LoopHub(symbolCount: 1, settings: settings)
        let s = Subscriber(outbox: Outbox(), delta: true)
        hub.attach(s)
        #expect(!s.isDelta)
    }
}
