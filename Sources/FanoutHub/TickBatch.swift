import MarketData

/// One feed interval's ticks, encoded once and shared read-only by every
/// event loop. Fan-out copies these bytes; it never re-encodes a tick.
public final class TickBatch: Sendable {
    public let ticks: [Tick]
    /// `ticks.count` wire records of `TickWire.recordSize` bytes, in order.
    public let records: [UInt8]
    /// For one-tick-per-message delivery: per tick, a whole framed message
    /// (frame header + message header + record), `frameSize` bytes each, as
    /// `TickMessageWriter.perTickFrames` lays them out (the send time is
    /// stamped as each is queued); empty when built without `perTickFrames`.
    public let frames: [UInt8]
    /// Bytes of one of `frames`; 0 when there are none.
    public let frameSize: Int
    /// Wall-clock time the batch was made (feed or ingest). Clients see the
    /// time each message was queued to them instead (`TickMessageWriter`).
    public let sendTimeNs: UInt64

    /// `perTickFrames`: also pre-frame one whole message per tick. Only
    /// one-tick-per-message delivery reads them; batched delivery (the
    /// default) copies `records` alone, so the server skips this work then.
    public convenience init(ticks: [Tick], sendTimeNs: UInt64, perTickFrames: Bool = false) {
        var records = [UInt8]()
        records.reserveCapacity(ticks.count * TickWire.recordSize)
        for tick in ticks { TickWire.appendRecord(tick, to: &records) }
        self.init(ticks: ticks, records: records, sendTimeNs: sendTimeNs, perTickFrames: perTickFrames)
    }

    /// `records`: the ticks already in wire form (`ticks.count` records of
    /// `TickWire.recordSize` bytes, as `TickWire.writeRecord` writes them):
    /// ingest hands over the publisher's validated bytes, with no re-encoding.
    public init(ticks: [Tick], records: [UInt8], sendTimeNs: UInt64, perTickFrames: Bool = false) {
        precondition(records.count == ticks.count * TickWire.recordSize, "one wire record per tick")
        // A caller's scratch array (the feed reuses one with room for 4,096
        // ticks) would otherwise be kept whole by every batch the history
        // retains, nearly doubling the history's memory.
        if ticks.capacity > ticks.count + ticks.count / 4 + 16 {
            self.ticks = [Tick](unsafeUninitializedCapacity: ticks.count) { buffer, initialized in
                _ = buffer.initialize(from: ticks)
                initialized = ticks.count
            }
        } else {
            self.ticks = ticks
        }
        self.sendTimeNs = sendTimeNs
        if perTickFrames {
            let writer = TickMessageWriter()
            frames = writer.perTickFrames(records: records, count: ticks.count)
            frameSize = writer.framedRecordSize()
        } else {
            frames = []
            frameSize = 0
        }
        self.records = records
    }

    public var count: Int { ticks.count }
}
