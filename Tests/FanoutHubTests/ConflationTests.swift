import MarketData
import Testing
import WebSocketProtocol
@testable import FanoutHub

/// Checks a decoded stream by the protocol's sequence rule: per symbol, the
/// first record (or a snapshot) is a baseline; otherwise
/// `seq == previous + 1 + conflatedCount`, and a count > 0 is flagged.
func sequenceViolations(_ ticks: [Tick]) -> Int {
    var last: [UInt32: UInt64] = [:]
    var violations = 0
    for t in ticks {
        if t.conflatedCount > 0 && !t.flags.contains(.conflated) { violations += 1 }
        if let previous = last[t.symbolId], !t.flags.contains(.snapshot),
           t.sequence != SequenceRule.expected(after: previous, conflatedCount: t.conflatedCount) {
            violations += 1
        }
        last[t.symbolId] = t.sequence
    }
    return violations
}

/// Splits any server byte stream (text and binary frames) into frames.
func frames(_ bytes: [UInt8]) throws -> [WebSocketFrame] {
    var parser = WebSocketFrameParser(role: .client, maxFrameSize: 1 << 24)
    parser.append(bytes)
    var out: [WebSocketFrame] = []
    while let frame = try parser.next() { out.append(frame) }
    #expect(parser.bufferedByteCount == 0)
    return out
}

func ticksIn(_ frames: [WebSocketFrame]) throws -> [Tick] {
    try frames.filter { $0.header.opcode == .binary }.flatMap { try TickWire.decodeMessage($0.payload).ticks }
}

@Suite struct ConflationTests {
    @Test func sequenceCheckerCatchesAGap() {
        #expect(sequenceViolations([tick(0, 1), tick(0, 2), tick(0, 3)]) == 0)
        #expect(sequenceViolations([tick(0, 1), tick(0, 3)]) == 1, "an undeclared jump")
        #expect(sequenceViolations([tick(0, 2), tick(0, 2)]) == 1, "a duplicate")
        var declared = tick(0, 5)
        declared.flags = [.conflated]
        declared.conflatedCount = 3
        #expect(sequenceViolations([tick(0, 1), declared]) == 0)
        declared.conflatedCount = 2
        #expect(sequenceViolations([tick(0, 1), declared]) == 1, "a count that does not cover the jump")
    }

    /// A connection that has had bytes queued for longer than the age limit
    /// conflates on the next round even far below the byte mark.
    @Test func oldBacklogStartsConflationBelowTheByteMark() throws {
        var settings = HubSettings()
        settings.backlog.maxBacklogAgeNanos = 1_000
        let hub = LoopHub(symbolCount: 1, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 1, nowNanos: 10_000)
        s.outbox.backlogSinceNanos = 10_000
        _ = hub.publish(batch([tick(0, 2)]), sendTimeNs: 1, nowNanos: 10_500)
        #expect(!s.isConflating, "younger than the limit")
        _ = hub.publish(batch([tick(0, 3)]), sendTimeNs: 1, nowNanos: 11_000)
        #expect(s.isConflating, "as old as the limit")
        _ = hub.publish(batch([tick(0, 4)]), sendTimeNs: 1, nowNanos: 11_100)
        #expect(hub.drain(s, sendTimeNs: 2))
        let got = try ticksIn(frames(drainAll(s)))
        #expect(got.map(\.sequence) == [4])
        #expect(got[0].conflatedCount == 3, "ticks 1-3 were folded, none lost silently")
    }

    /// Folding keeps the frame being written (its rest must go out for the
    /// stream to stay well-formed) and every control frame, in order.
    @Test func foldKeepsTheHeadFrameAndControlFrames() throws {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 1 << 20
        settings.backlog.maxBacklogAgeNanos = 1_000
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 1, nowNanos: 1)
        let reply = WebSocketFrameEncoder.encode(opcode: .text, payload: Array(#"{"op":"pong"}"#.utf8))
        s.outbox.queue.append(reply)
        _ = hub.publish(batch([tick(0, 2), tick(1, 2)]), sendTimeNs: 1, nowNanos: 2)
        _ = hub.publish(batch([tick(0, 3)]), sendTimeNs: 1, nowNanos: 3)
        // The writer sent 10 bytes of the first message.
        var sent = s.outbox.queue.bytes(from: 0, count: 10)
        s.outbox.didWrite(10)
        let firstMessage = TickWire.messageSize(recordCount: 2)
        #expect(s.outbox.cursor.headRemaining
                == WebSocketFrameEncoder.headerSize(payloadLength: firstMessage, masked: false) + firstMessage - 10)
        s.outbox.backlogSinceNanos = 2
        _ = hub.publish(batch([tick(1, 3)]), sendTimeNs: 1, nowNanos: 5_000)
        #expect(s.isConflating)
        #expect(hub.drain(s, sendTimeNs: 9))
        sent += drainAll(s)
        let all = try frames(sent)
        #expect(all.map(\.header.opcode) == [.binary, .text, .binary])
        let ticks = try ticksIn(all)
        #expect(sequenceViolations(ticks) == 0)
        #expect(ticks.filter { $0.symbolId == 0 }.last?.sequence == 3)
        #expect(ticks.filter { $0.symbolId == 1 }.last?.sequence == 3)
        #expect(ticks.count == 4, "the two head records, then one slot per symbol")
    }

    /// A close for a slow consumer must be the next thing it reads.
    @Test func discardBacklogKeepsOnlyTheRestOfTheHeadFrame() throws {
        let hub = LoopHub(symbolCount: 1, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        for i in 1...5 { _ = hub.publish(batch([tick(0, UInt64(i))]), sendTimeNs: 1, nowNanos: 0) }
        var sent = s.outbox.queue.bytes(from: 0, count: 3)
        s.outbox.didWrite(3)
        hub.discardBacklog(s)
        s.outbox.queue.append(WebSocketFrameEncoder.encodeClose(code: .slowConsumer, reason: "slow consumer"))
        sent += drainAll(s)
        let all = try frames(sent)
        #expect(all.map(\.header.opcode) == [.binary, .close])
    }

    /// Ticks that arrive already conflated (by the loop) add their count.
    @Test func slotsAddUpstreamCounts() throws {
        var settings = HubSettings()
        settings.backlog.highWaterMark = 1
        let hub = LoopHub(symbolCount: 1, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0], sendTimeNs: 1)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 1, nowNanos: 0)
        _ = drainAll(s)
        s.outbox.queue.append([0x89, 0x00])  // a ping is queued: above the 1-byte mark
        var upstream = tick(0, 5)
        upstream.flags = [.conflated]
        upstream.conflatedCount = 3  // 2, 3 and 4 swallowed upstream
        _ = hub.publish(batch([upstream, tick(0, 6)]), sendTimeNs: 1, nowNanos: 0)
        #expect(s.isConflating)
        _ = drainAll(s)
        #expect(hub.drain(s, sendTimeNs: 1))
        let got = try ticksIn(frames(drainAll(s)))
        #expect(got.map(\.sequence) == [6])
        #expect(got[0].conflatedCount == 4, "3 upstream + tick 5 itself")
        #expect(sequenceViolations([tick(0, 1)] + got) == 0)
    }

    /// Batches added in one round go out as one message per subscriber,
    /// each symbol's records in sequence order (records of different
    /// symbols may be grouped by symbol: see PROTOCOL.md).
    @Test func oneMessagePerRound() throws {
        let hub = LoopHub(symbolCount: 2, settings: HubSettings())
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 1)
        hub.beginRound(sendTimeNs: 5, nowNanos: 0)
        hub.add(batch([tick(0, 1)]))
        hub.add(batch([tick(1, 1)]))
        hub.add(batch([tick(0, 2)]))
        #expect(hub.endRound().count == 1)
        let messages = try decodeStream(drainAll(s))
        #expect(messages.count == 1)
        #expect(messages[0].count == 3)
        #expect(messages[0].filter { $0.symbolId == 0 }.map(\.sequence) == [1, 2])
        #expect(messages[0].filter { $0.symbolId == 1 }.map(\.sequence) == [1])
    }
}
