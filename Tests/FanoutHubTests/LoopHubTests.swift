import MarketData
import Testing
import WebSocketProtocol
@testable import FanoutHub

/// Splits a server's byte stream into binary messages and decodes their ticks.
func decodeStream(_ bytes: [UInt8]) throws -> [[Tick]] {
    var parser = WebSocketFrameParser(role: .client, maxFrameSize: 1 << 24)
    parser.append(bytes)
    var messages: [[Tick]] = []
    while let frame = try parser.next() {
        #expect(frame.header.opcode == .binary)
        #expect(frame.header.fin)
        messages.append(try TickWire.decodeMessage(frame.payload).ticks)
    }
    #expect(parser.bufferedByteCount == 0, "stream ends on a frame boundary")
    return messages
}

func tick(_ symbol: UInt32, _ seq: UInt64) -> Tick {
    Tick(symbolId: symbol, flags: [], priceExponent: -2, sequence: seq, eventTimeNs: 1_000 + seq,
         bid: 10_000 + Int64(seq), ask: 10_002 + Int64(seq), last: 10_001 + Int64(seq),
         bidSize: 100, askSize: 200, lastSize: 50, conflatedCount: 0)
}

func batch(_ ticks: [Tick]) -> TickBatch { TickBatch(ticks: ticks, sendTimeNs: 42, perTickFrames: true) }

func drainAll(_ s: Subscriber) -> [UInt8] {
    let bytes = contents(s.outbox.queue)
    s.outbox.queue.consume(s.outbox.queue.count)
    return bytes
}

@Suite struct LoopHubTests {
    @Test func subscriberGetsOnlyItsSymbolsInOneMessagePerPublish() throws {
        let hub = LoopHub(symbolCount: 4, settings: HubSettings())
        let a = Subscriber(outbox: Outbox()), b = Subscriber(outbox: Outbox())
        hub.attach(a)
        hub.attach(b)
        #expect(hub.subscribe(a, to: [0, 2], sendTimeNs: 1) == .subscribed([0, 2]))
        #expect(hub.subscribe(b, to: [1], sendTimeNs: 1) == .subscribed([1]))
        let touched = hub.publish(batch([tick(0, 1), tick(1, 1), tick(2, 1), tick(3, 1), tick(0, 2)]), sendTimeNs: 7, nowNanos: 0)
        #expect(touched.count == 2)
        let forA = try decodeStream(drainAll(a))
        #expect(forA == [[tick(0, 1), tick(2, 1), tick(0, 2)]])
        let forB = try decodeStream(drainAll(b))
        #expect(forB == [[tick(1, 1)]])
    }

    @Test func batchedMessageBytesAreExact() {
        let hub = LoopHub(symbolCount: 1, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 0x0102_0304_0506_0708, nowNanos: 0)
        var expected: [UInt8] = [0x82, UInt8(TickWire.headerSize + TickWire.recordSize)]
        TickWire.appendHeader(recordCount: 1, sendTimeNs: 0x0102_0304_0506_0708, to: &expected)
        TickWire.appendRecord(tick(0, 1), to: &expected)
        #expect(drainAll(s) == expected)
    }

    /// A long run is split into messages of 1,024 records (64 KiB + 16, so a
    /// 16-bit extended length), which keeps "close next" prompt.
    @Test func largeBatchIsSplitIntoBoundedMessages() throws {
        let hub = LoopHub(symbolCount: 1, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        let ticks = (1...3000).map { tick(0, UInt64($0)) }
        _ = hub.publish(batch(ticks), sendTimeNs: 5, nowNanos: 0)
        let bytes = drainAll(s)
        #expect(bytes[1] == 126, "a payload of 65,488 bytes (1,023 records) takes the 16-bit length")
        let messages = try decodeStream(bytes)
        #expect(messages.map(\.count) == [1023, 1023, 954])
        #expect(Array(messages.joined()) == ticks)
    }

    @Test func perTickModeSendsOneMessagePerTick() throws {
        var settings = HubSettings()
        settings.delivery = .perTick
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1), tick(0, 2)]), sendTimeNs: 5, nowNanos: 0)
        let bytes = drainAll(s)
        #expect(bytes.count == 3 * TickMessageWriter().framedRecordSize())
        let messages = try decodeStream(bytes)
        #expect(messages.allSatisfy { $0.count == 1 }, "one record per message")
        // Each symbol in sequence order; a round may group them by symbol.
        #expect(messages.joined().filter { $0.symbolId == 0 } == [tick(0, 1), tick(0, 2)])
        #expect(messages.joined().filter { $0.symbolId == 1 } == [tick(1, 1)])
    }

    @Test func perTickRoundWalksEachSubscriberOnce() throws {
        // Big rounds (more pairs than twice the subscribers) go subscriber
        // by subscriber in per-tick mode too: every tick still reaches each
        // of its subscribers as its own message, in sequence order.
        var settings = HubSettings()
        settings.delivery = .perTick
        let hub = LoopHub(symbolCount: 4, settings: settings)
        let subscribers = (0..<3).map { _ in Subscriber(outbox: Outbox()) }
        for (i, s) in subscribers.enumerated() {
            hub.attach(s)
            _ = hub.subscribe(s, to: [UInt32(i), 3], sendTimeNs: 1)
        }
        let ticks = (1...20).flatMap { seq in (0..<4).map { tick(UInt32($0), UInt64(seq)) } }
        hub.beginRound(sendTimeNs: 5, nowNanos: 0)
        hub.add(batch(Array(ticks[..<40])))
        hub.add(batch(Array(ticks[40...])))
        #expect(hub.endRound().count == 3)
        for (i, s) in subscribers.enumerated() {
            let messages = try decodeStream(drainAll(s))
            #expect(messages.count == 40 && messages.allSatisfy { $0.count == 1 })
            for symbol in [UInt32(i), 3] {
                #expect(messages.joined().filter { $0.symbolId == symbol }.map(\.sequence) == Array(1...20))
            }
            // Which walk ran shows in the order: subscriber by subscriber
            // writes each of its symbols' chains whole, in subscription
            // order; tick by tick would interleave them as published.
            #expect(messages.joined().map(\.symbolId) == Array(repeating: UInt32(i), count: 20) + Array(repeating: 3, count: 20))
        }
        // A small round (fewer pairs than twice the subscribers) goes tick by tick.
        hub.beginRound(sendTimeNs: 6, nowNanos: 0)
        hub.add(batch([tick(0, 21), tick(3, 21)]))
        _ = hub.endRound()
        #expect(try decodeStream(drainAll(subscribers[0])).joined().map(\.symbolId) == [0, 3])
    }

    @Test func snapshotFirstThenNextSequence() throws {
        let hub = LoopHub(symbolCount: 2, settings: HubSettings())
        let early = Subscriber(outbox: Outbox())
        hub.attach(early)
        _ = hub.subscribe(early, to: [0], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(0, 2)]), sendTimeNs: 5, nowNanos: 0)
        let late = Subscriber(outbox: Outbox())
        hub.attach(late)
        var order: [String] = []
        let outcome = hub.subscribe(late, to: [0, 1], sendTimeNs: 9) { _ in
            order.append("ack")
            #expect(late.outbox.queue.isEmpty, "nothing queued before the acknowledgement")
        }
        #expect(outcome == .subscribed([0, 1]))
        #expect(order == ["ack"])
        _ = hub.publish(batch([tick(0, 3)]), sendTimeNs: 10, nowNanos: 0)
        let messages = try decodeStream(drainAll(late))
        var snapshot = tick(0, 2)
        snapshot.flags = [.snapshot]
        #expect(messages == [[snapshot], [tick(0, 3)]], "symbol 1 never ticked: no snapshot for it")
    }

    @Test func nothingAfterUnsubscribe() throws {
        let hub = LoopHub(symbolCount: 2, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 1)
        #expect(hub.unsubscribe(s, from: [0, 0, 1]) == [0, 1])
        #expect(hub.unsubscribe(s, from: [0]) == [])
        #expect(hub.subscriptionCount == 0)
        let touched = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 5, nowNanos: 0)
        #expect(touched.isEmpty)
        #expect(s.outbox.queue.isEmpty)
    }

    @Test func limitExceededChangesNothing() {
        var settings = HubSettings()
        settings.backlog.maxSymbolsPerConnection = 2
        let hub = LoopHub(symbolCount: 5, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        #expect(hub.subscribe(s, to: [0, 1], sendTimeNs: 1) == .subscribed([0, 1]))
        #expect(hub.subscribe(s, to: [1], sendTimeNs: 1) == .subscribed([]), "already held: not counted twice")
        #expect(hub.subscribe(s, to: [2], sendTimeNs: 1) == .limitExceeded(limit: 2))
        #expect(s.symbols == [0, 1])
    }

    @Test func unknownIdsAreIgnoredAndDuplicatesCollapsed() {
        let hub = LoopHub(symbolCount: 2, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        #expect(hub.subscribe(s, to: [1, 1, 7], sendTimeNs: 1) == .subscribed([1]))
    }

    @Test func detachRemovesFromEverySymbol() {
        let hub = LoopHub(symbolCount: 3, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1, 2], sendTimeNs: 1)
        hub.detach(s)
        #expect(hub.subscriberCount == 0)
        #expect(hub.subscriptionCount == 0)
        #expect(hub.publish(batch([tick(0, 1), tick(1, 1), tick(2, 1)]), sendTimeNs: 1, nowNanos: 0).isEmpty)
    }

    /// A subscriber whose queue passes the high-water mark keeps only the
    /// newest tick per symbol, with the count of updates it replaced; after
    /// draining, every sequence jump is declared.
    @Test func conflationDeclaresEverySkippedUpdate() throws {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 4096
        settings.backlog.lowWaterMark = 1024
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 1)
        var seq: [UInt64] = [0, 0]
        for round in 0..<200 {
            let symbol = UInt32(round % 2)
            seq[Int(symbol)] += 1
            _ = hub.publish(batch([tick(symbol, seq[Int(symbol)])]), sendTimeNs: 1, nowNanos: UInt64(round))
        }
        #expect(s.isConflating)
        #expect(s.conflatingSinceNanos > 0)
        #expect(s.outbox.queue.count < settings.backlog.highWaterMark + 200)
        let beforeDrain = try decodeStream(drainAll(s))
        #expect(hub.drain(s, sendTimeNs: 2))
        #expect(!s.isConflating)
        let afterDrain = try decodeStream(drainAll(s))
        #expect(afterDrain.count == 1)
        var last: [UInt32: UInt64] = [:]
        var swallowed: UInt64 = 0
        for t in (beforeDrain + afterDrain).joined() {
            if let previous = last[t.symbolId] {
                #expect(t.sequence == previous + 1 + UInt64(t.conflatedCount), "no silent gap")
            }
            if t.conflatedCount > 0 { #expect(t.flags.contains(.conflated)) }
            swallowed += UInt64(t.conflatedCount)
            last[t.symbolId] = t.sequence
        }
        #expect(last[0] == 100 && last[1] == 100, "the newest tick of each symbol arrives")
        #expect(swallowed == s.conflatedTotal)
        #expect(swallowed > 0)
        #expect(hub.counters.conflationEpisodes == 1)
    }

    /// Conflation does not leave the stale backlog in front of the client:
    /// what was queued and not yet being written folds into the slots, so the
    /// queue is back under the low-water mark at once and drains next flush.
    @Test func conflationFoldsTheQueuedBacklog() {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 4096
        settings.backlog.lowWaterMark = 1024
        let hub = LoopHub(symbolCount: 1, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        for i in 1...100 { _ = hub.publish(batch([tick(0, UInt64(i))]), sendTimeNs: 1, nowNanos: 0) }
        #expect(s.isConflating)
        #expect(s.outbox.queue.count == 0, "nothing was being written: the whole backlog folded")
        #expect(hub.counters.ticksFolded > 0)
        #expect(hub.drain(s, sendTimeNs: 1))
        #expect(!s.isConflating)
    }

    @Test func subscribeWhileConflatingQueuesSnapshotInSlot() throws {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 2048
        settings.backlog.lowWaterMark = 0
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let feeder = Subscriber(outbox: Outbox())
        hub.attach(feeder)
        _ = hub.subscribe(feeder, to: [1], sendTimeNs: 1)
        _ = hub.publish(batch([tick(1, 1)]), sendTimeNs: 1, nowNanos: 0)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        for i in 1...60 { _ = hub.publish(batch([tick(0, UInt64(i))]), sendTimeNs: 1, nowNanos: 0) }
        #expect(s.isConflating)
        _ = hub.subscribe(s, to: [1], sendTimeNs: 1)
        _ = hub.publish(batch([tick(1, 2), tick(1, 3)]), sendTimeNs: 1, nowNanos: 0)
        _ = drainAll(s)
        #expect(hub.drain(s, sendTimeNs: 1))
        let flushed = try decodeStream(drainAll(s)).joined().filter { $0.symbolId == 1 }
        #expect(flushed.count == 1)
        #expect(flushed[0].flags.contains(.snapshot), "a new baseline for the client")
        #expect(flushed[0].sequence == 3)
        #expect(flushed[0].conflatedCount == 2)
    }
}

/// Ingest hands over the publisher's record bytes: a batch built from them
/// is the batch built by encoding the same ticks.
@Test func batchFromWireRecordsEqualsEncodedBatch() {
    let ticks = (0..<3).map { i in
        Tick(symbolId: UInt32(i), priceExponent: -2, sequence: UInt64(i + 1), eventTimeNs: 5, bid: 100, ask: 101,
             last: 100, bidSize: 1, askSize: 1, lastSize: 1)
    }
    let encoded = TickBatch(ticks: ticks, sendTimeNs: 9, perTickFrames: true)
    let handed = TickBatch(ticks: ticks, records: encoded.records, sendTimeNs: 9, perTickFrames: true)
    #expect(handed.records == encoded.records)
    #expect(handed.frames == encoded.frames)
    #expect(TickBatch(ticks: ticks, records: encoded.records, sendTimeNs: 9).frames.isEmpty)
}
