/// Binary data-frame codec, wire format v1. Fixed offsets, little-endian,
/// because every mainstream client CPU is little-endian (no swapping in the
/// common case) and fixed-size records let a decoder index without parsing.
/// The layout is specified in docs/PROTOCOL.md; change both together.
public enum TickWire {
    public static let version: UInt8 = 1
    public static let headerSize = 16
    public static let recordSize = 64
    /// `recordCount` is a u16 on the wire.
    public static let maxRecordsPerMessage = Int(UInt16.max)

    public enum MessageType: UInt8, Sendable {
        case ticks = 1
    }

    /// Exact byte length of a v1 message with `recordCount` records.
    public static func messageSize(recordCount: Int) -> Int {
        headerSize + recordCount * recordSize
    }

    /// Grows the array by exactly 64 bytes; reserving capacity up front is the
    /// caller's job, so in steady state this never allocates.
    public static func appendRecord(_ tick: Tick, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: recordSize))
        buffer.withUnsafeMutableBytes { writeRecord(tick, to: $0.baseAddress! + start) }
    }

    /// Caller guarantees 64 writable bytes; alignment is not required.
    public static func writeRecord(_ tick: Tick, to pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: tick.symbolId.littleEndian, toByteOffset: RecordField.symbolId, as: UInt32.self)
        pointer.storeBytes(of: tick.flags.rawValue, toByteOffset: RecordField.flags, as: UInt8.self)
        pointer.storeBytes(of: tick.priceExponent, toByteOffset: RecordField.priceExponent, as: Int8.self)
        pointer.storeBytes(of: UInt16(0), toByteOffset: RecordField.reserved, as: UInt16.self)
        pointer.storeBytes(of: tick.sequence.littleEndian, toByteOffset: RecordField.sequence, as: UInt64.self)
        pointer.storeBytes(of: tick.eventTimeNs.littleEndian, toByteOffset: RecordField.eventTime, as: UInt64.self)
        pointer.storeBytes(of: tick.bid.littleEndian, toByteOffset: RecordField.bid, as: Int64.self)
        pointer.storeBytes(of: tick.ask.littleEndian, toByteOffset: RecordField.ask, as: Int64.self)
        pointer.storeBytes(of: tick.last.littleEndian, toByteOffset: RecordField.last, as: Int64.self)
        pointer.storeBytes(of: tick.bidSize.littleEndian, toByteOffset: RecordField.bidSize, as: UInt32.self)
        pointer.storeBytes(of: tick.askSize.littleEndian, toByteOffset: RecordField.askSize, as: UInt32.self)
        pointer.storeBytes(of: tick.lastSize.littleEndian, toByteOffset: RecordField.lastSize, as: UInt32.self)
        pointer.storeBytes(of: tick.conflatedCount.littleEndian, toByteOffset: RecordField.conflatedCount, as: UInt32.self)
    }

    public static func appendHeader(recordCount: Int, sendTimeNs: UInt64, to buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: headerSize))
        buffer.withUnsafeMutableBytes {
            writeHeader(recordCount: recordCount, sendTimeNs: sendTimeNs, to: $0.baseAddress! + start)
        }
    }

    /// Writing the header separately lets a sender reserve 16 bytes, append
    /// records, then fill in the count and the send time at the last moment.
    public static func writeHeader(recordCount: Int, sendTimeNs: UInt64, to pointer: UnsafeMutableRawPointer) {
        precondition(recordCount >= 0 && recordCount <= maxRecordsPerMessage, "recordCount \(recordCount) out of range")
        pointer.storeBytes(of: version, toByteOffset: HeaderField.version, as: UInt8.self)
        pointer.storeBytes(of: MessageType.ticks.rawValue, toByteOffset: HeaderField.messageType, as: UInt8.self)
        pointer.storeBytes(of: UInt16(recordCount).littleEndian, toByteOffset: HeaderField.recordCount, as: UInt16.self)
        pointer.storeBytes(of: UInt16(recordSize).littleEndian, toByteOffset: HeaderField.recordSize, as: UInt16.self)
        pointer.storeBytes(of: UInt16(0), toByteOffset: HeaderField.reserved, as: UInt16.self)
        pointer.storeBytes(of: sendTimeNs.littleEndian, toByteOffset: HeaderField.sendTime, as: UInt64.self)
    }
}
