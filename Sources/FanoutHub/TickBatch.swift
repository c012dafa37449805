import MarketData
import WebSocketProtocol

/// One feed interval's ticks, encoded once and shared read-only by every
/// event loop. Fan-out copies these bytes; it never re-encodes a tick.
public final class TickBatch: Sendable {
    public let ticks: [Tick]
    /// `ticks.count` wire records of `TickWire.recordSize` bytes, in order.
    public let records: [UInt8]
    /// For one-tick-per-message delivery: per tick, a whole WebSocket binary
    /// frame (frame header + message header + record), `frameSize` bytes each.
    public let frames: [UInt8]
    public let sendTimeNs: UInt64

    /// Bytes of one single-record binary message: frame header, message header, record.
    public static let frameSize = 2 + TickWire.headerSize + TickWire.recordSize

    public init(ticks: [Tick], sendTimeNs: UInt64) {
        self.ticks = ticks
        self.sendTimeNs = sendTimeNs
        var records = [UInt8]()
        records.reserveCapacity(ticks.count * TickWire.recordSize)
        var frames = [UInt8]()
        frames.reserveCapacity(ticks.count * Self.frameSize)
        for tick in ticks {
            TickWire.appendRecord(tick, to: &records)
            WebSocketFrameEncoder.writeHeader(
                into: &frames, opcode: .binary, payloadLength: TickWire.headerSize + TickWire.recordSize)
            TickWire.appendHeader(recordCount: 1, sendTimeNs: sendTimeNs, to: &frames)
            TickWire.appendRecord(tick, to: &frames)
        }
        self.records = records
        self.frames = frames
    }

    public var count: Int { ticks.count }
}
