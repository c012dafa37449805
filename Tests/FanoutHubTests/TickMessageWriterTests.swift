import MarketData
import Testing
import WebSocketProtocol
@testable import FanoutHub

/// The message writer: one send-time rule for every kind of message, and
/// the frame envelope trimmed to the real header.
@Suite struct TickMessageWriterTests {
    /// Frames of the queue, decoded: (send time, ticks) per message.
    func messages(_ s: Subscriber) throws -> [(sendTimeNs: UInt64, ticks: [Tick])] {
        var parser = WebSocketFrameParser(role: .client, maxFrameSize: 1 << 24)
        parser.append(drainAll(s))
        var out: [(UInt64, [Tick])] = []
        while let frame = try parser.next() {
            #expect(frame.header.opcode == .binary)
            out.append(try TickWire.decodeMessage(frame.payload))
        }
        #expect(parser.bufferedByteCount == 0)
        return out
    }

    func hub(_ delivery: DeliveryMode) -> (LoopHub, Subscriber) {
        var settings = HubSettings()
        settings.delivery = delivery
        let hub = LoopHub(symbolCount: 2, settings: settings)
        let s = Subscriber(outbox: Outbox())
        hub.attach(s)
        _ = hub.subscribe(s, to: [0, 1], sendTimeNs: 5)
        return (hub, s)
    }

    /// A batch made at t = 42 and fanned out in a round at t = 77 carries 77,
    /// whether it goes out batched or one tick per message.
    @Test(arguments: [DeliveryMode.batched, .perTick])
    func messagesCarryTheRoundsSendTime(_ delivery: DeliveryMode) throws {
        let (hub, s) = hub(delivery)
        _ = hub.publish(batch([tick(0, 1), tick(1, 1)]), sendTimeNs: 77, nowNanos: 0)
        let got = try messages(s)
        #expect(got.count == (delivery == .perTick ? 2 : 1))
        #expect(got.allSatisfy { $0.sendTimeNs == 77 })
        #expect(got.flatMap(\.ticks) == [tick(0, 1), tick(1, 1)])
    }

    /// Snapshots go out with the time they were queued (the subscribe).
    @Test func snapshotCarriesTheTimeItWasQueued() throws {
        let (hub, s) = hub(.batched)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 77, nowNanos: 0)
        _ = drainAll(s)
        let late = Subscriber(outbox: Outbox())
        hub.attach(late)
        _ = hub.subscribe(late, to: [0], sendTimeNs: 90)
        let got = try messages(late)
        #expect(got.count == 1)
        #expect(got[0].sendTimeNs == 90)
        #expect(got[0].ticks.first?.flags == [.snapshot])
    }

    /// A small batched message keeps only the 2-byte frame header of the 10 reserved.
    @Test func openMessageIsTrimmedToItsRealHeader() {
        let (hub, s) = hub(.batched)
        _ = hub.publish(batch([tick(0, 1)]), sendTimeNs: 1, nowNanos: 0)
        #expect(s.outbox.queue.count == 2 + TickWire.messageSize(recordCount: 1))
    }

    /// The named offsets are where the encoder puts each field.
    @Test func namedOffsetsMatchTheEncoder() {
        let t = Tick(symbolId: 7, flags: [.conflated], priceExponent: -3, sequence: 9, eventTimeNs: 11,
                     bid: 12, ask: 13, last: 14, bidSize: 15, askSize: 16, lastSize: 17, conflatedCount: 18)
        var bytes: [UInt8] = []
        TickWire.appendHeader(recordCount: 1, sendTimeNs: 99, to: &bytes)
        TickWire.appendRecord(t, to: &bytes)
        bytes.withUnsafeBytes { raw in
            let r = TickWire.headerSize
            #expect(raw.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordCount, as: UInt16.self) == 1)
            #expect(raw.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordSize, as: UInt16.self) == 64)
            #expect(raw.loadUnaligned(fromByteOffset: TickWire.HeaderField.sendTime, as: UInt64.self) == 99)
            #expect(raw.loadUnaligned(fromByteOffset: r + TickWire.RecordField.symbolId, as: UInt32.self) == 7)
            #expect(raw[r + TickWire.RecordField.flags] == TickFlags.conflated.rawValue)
            #expect(raw.loadUnaligned(fromByteOffset: r + TickWire.RecordField.sequence, as: UInt64.self) == 9)
            #expect(raw.loadUnaligned(fromByteOffset: r + TickWire.RecordField.eventTime, as: UInt64.self) == 11)
            #expect(raw.loadUnaligned(fromByteOffset: r + TickWire.RecordField.lastSize, as: UInt32.self) == 17)
            #expect(raw.loadUnaligned(fromByteOffset: r + TickWire.RecordField.conflatedCount, as: UInt32.self) == 18)
        }
    }
}
