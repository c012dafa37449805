import MarketData
import WebSocketProtocol

/// One feed interval's ticks, encoded once and shared read-only by every
/// event loop. Fan-out copies these bytes; it never re-encodes a tick.
public final class TickBatch: Sendable {
    public let ticks: [Tick]
    /// `ticks.count` wire records of `TickWire.recordSize` bytes, in order.
    public let records: [UInt8]
    /// For one-tick-per-message delivery: per tick, a whole WebSocket binary
    /// frame (frame header + message header + record), `frameSize` bytes each;
    /// empty when the batch was built without `perTickFrames`.
    public let frames: [UInt8]
    public let sendTimeNs: UInt64

    /// Bytes of one single-record binary message: frame header, message header, record.
    public static let frameSize = 2 + TickWire.headerSize + TickWire.recordSize

    /// `perTickFrames`: also pre-encode one whole frame per tick. Only
    /// one-tick-per-message delivery reads them; batched delivery (the
    /// default) copies `records` alone, so the server skips this work then.
    public convenience init(ticks: [Tick], sendTimeNs: UInt64, perTickFrames: Bool = true) {
        var records = [UInt8]()
        records.reserveCapacity(ticks.count * TickWire.recordSize)
        for tick in ticks { TickWire.appendRecord(tick, to: &records) }
        self.init(ticks: ticks, records: records, sendTimeNs: sendTimeNs, perTickFrames: perTickFrames)
    }

    /// `records`: the ticks already in wire form (`ticks.count` records of
    /// `TickWire.recordSize` bytes, as `TickWire.writeRecord` writes them):
    /// ingest hands over the publisher's validated bytes, with no re-encoding.
    public init(ticks: [Tick], records: [UInt8], sendTimeNs: UInt64, perTickFrames: Bool = true) {
        precondition(records.count == ticks.count * TickWire.recordSize, "one wire record per tick")
        // A caller's scratch array (the feed reuses one with room for 4,096
        // ticks) would otherwise be kept whole by every batch the history
        // retains: measured, 256 bytes of RSS per retained tick instead of ~140.
        if ticks.capacity > ticks.count + ticks.count / 4 + 16 {
            self.ticks = [Tick](unsafeUninitializedCapacity: ticks.count) { buffer, initialized in
                _ = buffer.initialize(from: ticks)
                initialized = ticks.count
            }
        } else {
            self.ticks = ticks
        }
        self.sendTimeNs = sendTimeNs
        var frames = [UInt8]()
        if perTickFrames {
            frames.reserveCapacity(ticks.count * Self.frameSize)
            let payloadLength = TickWire.headerSize + TickWire.recordSize
            for i in ticks.indices {
                WebSocketFrameEncoder.writeHeader(into: &frames, opcode: .binary, payloadLength: payloadLength)
                TickWire.appendHeader(recordCount: 1, sendTimeNs: sendTimeNs, to: &frames)
                frames += records[(i * TickWire.recordSize)..<((i + 1) * TickWire.recordSize)]
            }
        }
        self.records = records
        self.frames = frames
    }

    public var count: Int { ticks.count }
}
