import MarketData
import Testing
import WebSocketProtocol
@testable import FanoutHub

/// `tick` folded as a class sample: the newest, flagged conflated when it
/// replaced any, with the count of what it replaced.
private func sampled(_ symbol: UInt32, _ seq: UInt64, replaced: UInt32) -> Tick {
    var t = tick(symbol, seq)
    t.conflatedCount = replaced
    if replaced > 0 { t.flags = [.conflated] }
    return t
}

private func snapshot(_ symbol: UInt32, _ seq: UInt64) -> Tick {
    var t = tick(symbol, seq)
    t.flags = [.snapshot]
    return t
}

@Suite struct ThrottleTests {
    func hub(_ symbols: Int = 3) -> LoopHub { LoopHub(symbolCount: symbols, settings: HubSettings()) }

    func attached(_ hub: LoopHub) -> Subscriber {
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        return s
    }

    /// At most one record per symbol per sample, the newest, with the count
    /// of what it replaced; nothing for a symbol that did not change; the
    /// bytes are exactly one message of those records.
    @Test func aSampleSendsTheNewestPerChangedSymbolWithItsCount() throws {
        let hub = hub()
        let s = attached(hub)
        #expect(hub.subscribe(s, to: [0, 1, 2], intervalMs: 250, sendTimeNs: 1) == .subscribed([0, 1, 2]))
        #expect(hub.intervalClasses == [250])
        let live = hub.publish(batch([tick(0, 1), tick(1, 1), tick(0, 2), tick(0, 3)]), sendTimeNs: 5, nowNanos: 0)
        #expect(live.isEmpty, "throttled symbols are not delivered live")
        #expect(s.outbox.queue.isEmpty)
        let touched = try #require(hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 1))
        #expect(touched.count == 1)
        // 144 payload bytes: a 16-bit length.
        var expected: [UInt8] = [0x82, 126, 0, UInt8(TickWire.headerSize + 2 * TickWire.recordSize)]
        TickWire.appendHeader(recordCount: 2, sendTimeNs: 9, to: &expected)
        TickWire.appendRecord(sampled(0, 3, replaced: 2), to: &expected)
        TickWire.appendRecord(tick(1, 1), to: &expected)
        #expect(drainAll(s) == expected)
        // Nothing changed: nothing sent.
        #expect(hub.sample(intervalMs: 250, sendTimeNs: 10, nowNanos: 2)?.isEmpty == true)
        #expect(s.outbox.queue.isEmpty)
        _ = hub.publish(batch([tick(2, 1), tick(0, 4)]), sendTimeNs: 5, nowNanos: 3)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 11, nowNanos: 4)
        #expect(try decodeStream(drainAll(s)) == [[tick(2, 1), tick(0, 4)]])
    }

    /// Every member of a class gets the same samples, byte for byte, at the
    /// class's instants; another class is sampled on its own.
    @Test func membersOfAClassShareItsSamplesAndClassesAreIndependent() throws {
        let hub = hub()
        let a = attached(hub), b = attached(hub), c = attached(hub)
        _ = hub.subscribe(a, to: [0, 1], intervalMs: 100, sendTimeNs: 1)
        _ = hub.subscribe(b, to: [0, 1], intervalMs: 100, sendTimeNs: 1)
        _ = hub.subscribe(c, to: [0, 1], intervalMs: 500, sendTimeNs: 1)
        #expect(hub.intervalClasses == [100, 500])
        for seq in 1...4 as ClosedRange<UInt64> { _ = hub.publish(batch([tick(0, seq)]), sendTimeNs: 5, nowNanos: seq) }
        _ = hub.sample(intervalMs: 100, sendTimeNs: 20, nowNanos: 10)
        let forA = drainAll(a)
        #expect(forA == drainAll(b))
        #expect(try decodeStream(forA) == [[sampled(0, 4, replaced: 3)]])
        #expect(c.outbox.queue.isEmpty, "the 500 ms class is not sampled by the 100 ms timer")
        _ = hub.publish(batch([tick(0, 5), tick(1, 1)]), sendTimeNs: 5, nowNanos: 11)
        _ = hub.sample(intervalMs: 100, sendTimeNs: 21, nowNanos: 12)
        #expect(try decodeStream(drainAll(a)) == [[tick(0, 5), tick(1, 1)]])
        _ = hub.sample(intervalMs: 500, sendTimeNs: 22, nowNanos: 13)
        #expect(try decodeStream(drainAll(c)) == [[sampled(0, 5, replaced: 4), tick(1, 1)]])
        #expect(sequenceViolations(try ticksIn(frames(drainAll(b)))) == 0)
    }

    /// A member that joins between samples gets a snapshot; its last record
    /// is not the class's previous sample, so the next sample's count for it
    /// is its own (an exception), and after that it shares the class's.
    @Test func aLateJoinerIsAnExceptionUntilTheNextSample() throws {
        let hub = hub(1)
        let early = attached(hub), late = attached(hub)
        _ = hub.subscribe(early, to: [0], intervalMs: 250, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(0, 2)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.subscribe(late, to: [0], intervalMs: 250, sendTimeNs: 1)
        #expect(late.throttleBase == [0: 2])
        _ = hub.publish(batch([tick(0, 3), tick(0, 4)]), sendTimeNs: 5, nowNanos: 2)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 3)
        #expect(try decodeStream(drainAll(early)) == [[sampled(0, 4, replaced: 3)]])
        #expect(try decodeStream(drainAll(late)) == [[snapshot(0, 2)], [sampled(0, 4, replaced: 1)]])
        #expect(late.throttleBase.isEmpty, "settled by the sample")
        _ = hub.publish(batch([tick(0, 5)]), sendTimeNs: 5, nowNanos: 4)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 5)
        #expect(drainAll(early) == drainAll(late))
    }

    /// A joiner whose snapshot is already the newest tick gets nothing more
    /// until the symbol ticks again.
    @Test func aJoinerAlreadyCurrentGetsNoDuplicate() throws {
        let hub = hub(1)
        let a = attached(hub), b = attached(hub)
        _ = hub.subscribe(a, to: [0], intervalMs: 250, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.subscribe(b, to: [0], intervalMs: 250, sendTimeNs: 1)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 2)
        #expect(try decodeStream(drainAll(a)) == [[tick(0, 1)]])
        #expect(try decodeStream(drainAll(b)) == [[snapshot(0, 1)]])
    }

    /// Changing a held symbol's interval: to 0 it gets, first, the ticks it
    /// had not had as one counted record, then every tick; back to an
    /// interval it is sampled again. The sequence stays whole throughout.
    @Test func changingTheIntervalKeepsTheSequenceWhole() throws {
        let hub = hub(2)
        let s = attached(hub)
        _ = hub.subscribe(s, to: [0, 1], intervalMs: 250, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 2)
        _ = hub.publish(batch([tick(0, 2), tick(0, 3)]), sendTimeNs: 5, nowNanos: 3)
        #expect(hub.subscribe(s, to: [0], intervalMs: 0, sendTimeNs: 10) == .subscribed([0]), "a move is named in the reply")
        #expect(s.interval(of: 0) == 0 && s.interval(of: 1) == 250)
        _ = hub.publish(batch([tick(0, 4), tick(1, 2)]), sendTimeNs: 11, nowNanos: 4)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 12, nowNanos: 5)
        let got = try decodeStream(drainAll(s))
        #expect(got == [[tick(0, 1), tick(1, 1)], [sampled(0, 3, replaced: 1)], [tick(0, 4)], [tick(1, 2)]])
        // And back: the live symbol has had every tick, so the class's next sample follows on.
        #expect(hub.subscribe(s, to: [0], intervalMs: 250, sendTimeNs: 13) == .subscribed([0]))
        _ = hub.publish(batch([tick(0, 5), tick(0, 6)]), sendTimeNs: 14, nowNanos: 6)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 15, nowNanos: 7)
        #expect(try decodeStream(drainAll(s)) == [[sampled(0, 6, replaced: 1)]])
        #expect(hub.subscribe(s, to: [0], intervalMs: 250, sendTimeNs: 16) == .subscribed([]), "same interval: no change")
        #expect(hub.subscriptionCount == 2)
    }

    /// Moving between two classes: the old class's unsent ticks bridge, the
    /// new class continues; the old class goes when it empties.
    @Test func movingBetweenClassesBridgesAndEmptiesTheOldClass() throws {
        let hub = hub(1)
        let s = attached(hub)
        _ = hub.subscribe(s, to: [0], intervalMs: 100, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(0, 2)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.subscribe(s, to: [0], intervalMs: 1_000, sendTimeNs: 6)
        #expect(hub.intervalClasses == [1_000])
        #expect(hub.sample(intervalMs: 100, sendTimeNs: 7, nowNanos: 2) == nil, "its timer may go")
        _ = hub.publish(batch([tick(0, 3)]), sendTimeNs: 5, nowNanos: 3)
        _ = hub.sample(intervalMs: 1_000, sendTimeNs: 8, nowNanos: 4)
        #expect(try decodeStream(drainAll(s)) == [[sampled(0, 2, replaced: 1)], [tick(0, 3)]])
    }

    /// Unsubscribing ends the samples; the last member gone ends the class.
    @Test func unsubscribeEndsSamplesAndTheClass() throws {
        let hub = hub(2)
        let a = attached(hub), b = attached(hub)
        _ = hub.subscribe(a, to: [0, 1], intervalMs: 250, sendTimeNs: 1)
        _ = hub.subscribe(b, to: [0], intervalMs: 250, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 5, nowNanos: 1)
        #expect(hub.unsubscribe(a, from: [0]) == [0])
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 2)
        #expect(try decodeStream(drainAll(a)) == [[tick(1, 1)]])
        #expect(try decodeStream(drainAll(b)) == [[tick(0, 1)]])
        hub.detach(b)
        #expect(hub.unsubscribe(a, from: [1]) == [1])
        #expect(hub.intervalClasses.isEmpty)
        #expect(hub.throttledClasses == [0, 0])
        #expect(hub.sample(intervalMs: 250, sendTimeNs: 10, nowNanos: 3) == nil)
        #expect(hub.subscriptionCount == 0)
    }

    /// One connection: one symbol at every tick, the other throttled. The
    /// live one keeps the per-symbol index, the throttled one is not in it.
    @Test func liveAndThrottledOnOneConnection() throws {
        let hub = hub(2)
        let s = attached(hub)
        _ = hub.subscribe(s, to: [0, 1], intervalMs: 250, sendTimeNs: 1)
        _ = hub.subscribe(s, to: [1], sendTimeNs: 1)
        #expect(hub.index[1].count == 1 && hub.index[0].isEmpty)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1), tick(0, 2), tick(1, 2)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 2)
        #expect(try decodeStream(drainAll(s)) == [[tick(1, 1), tick(1, 2)], [sampled(0, 2, replaced: 1)]])
    }

    /// Resuming a throttled symbol: one record, the newest, with the count
    /// of what the client missed; then the interval continues from it.
    @Test func resumeDeliversTheNewestOnceThenTheInterval() throws {
        let hub = hub(2)
        let s = attached(hub)
        _ = hub.publish(batch([tick(0, 1), tick(0, 2), tick(0, 3), tick(1, 1)]), sendTimeNs: 5, nowNanos: 1)
        var report = ResumedIDs()
        _ = hub.subscribe(s, to: [0, 1], from: [0: 1, 1: 9], intervalMs: 250, sendTimeNs: 6) { _, ids in report = ids }
        #expect(report == ResumedIDs(resumed: [0], reset: [1]), "a point ahead of the loop is a reset")
        _ = hub.publish(batch([tick(0, 4), tick(0, 5)]), sendTimeNs: 5, nowNanos: 2)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 3)
        #expect(try decodeStream(drainAll(s)) == [[sampled(0, 3, replaced: 1), snapshot(1, 1)], [sampled(0, 5, replaced: 1)]])
    }

    /// A throttled connection behind its reader conflates like any other: a
    /// sample goes into its slots past the high-water mark, and the drained
    /// slots still satisfy the sequence rule with the samples after them.
    @Test func samplesConflateForASlowReader() throws {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 100   // one single-record message (82 bytes) fits
        settings.backlog.lowWaterMark = 0
        let hub = LoopHub(symbolCount: 1, settings: settings)
        let s = attached(hub)
        _ = hub.subscribe(s, to: [0], intervalMs: 250, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 2)
        var all = try ticksIn(frames(drainAll(s)))
        for seq in 2...7 as ClosedRange<UInt64> {
            _ = hub.publish(batch([tick(0, seq)]), sendTimeNs: 5, nowNanos: seq * 10)
            if seq % 2 == 1 { _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: seq * 10 + 1) }
        }
        #expect(s.isConflating, "the reader has not read the samples of 3 and 5")
        #expect(s.outbox.queue.isEmpty, "the queued samples were folded")
        #expect(hub.drain(s, sendTimeNs: 99))
        all += try ticksIn(frames(drainAll(s)))
        _ = hub.publish(batch([tick(0, 8)]), sendTimeNs: 5, nowNanos: 100)
        _ = hub.sample(intervalMs: 250, sendTimeNs: 9, nowNanos: 101)
        all += try ticksIn(frames(drainAll(s)))
        #expect(all == [tick(0, 1), sampled(0, 7, replaced: 5), tick(0, 8)])
        #expect(sequenceViolations(all) == 0)
    }

    /// One tick per message delivery: each sample record is its own message.
    @Test func perTickDeliverySendsOneMessagePerSampleRecord() throws {
        var settings = HubSettings()
        settings.delivery = .perTick
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let s = attached(hub)
        _ = hub.subscribe(s, to: [0, 1], intervalMs: 50, sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1), tick(0, 2)]), sendTimeNs: 5, nowNanos: 1)
        _ = hub.sample(intervalMs: 50, sendTimeNs: 9, nowNanos: 2)
        #expect(try decodeStream(drainAll(s)) == [[sampled(0, 2, replaced: 1)], [tick(1, 1)]])
    }
}
