/// In-place patching exists because the fan-out encodes each tick once and
/// shares the bytes; only a connection that receives it as a snapshot or
/// after conflation needs different flags, and rewriting two fields is far
/// cheaper than re-encoding 64 bytes.
extension TickWire {
    /// `pointer` is the start of an encoded record.
    public static func patchRecord(at pointer: UnsafeMutableRawPointer, flags: TickFlags, conflatedCount: UInt32) {
        pointer.storeBytes(of: flags.rawValue, toByteOffset: RecordField.flags, as: UInt8.self)
        pointer.storeBytes(of: conflatedCount.littleEndian, toByteOffset: RecordField.conflatedCount, as: UInt32.self)
    }

    /// `recordOffset` is the byte offset of the record inside `buffer`.
    public static func patchRecord(
        in buffer: inout [UInt8], recordOffset: Int, flags: TickFlags, conflatedCount: UInt32
    ) {
        precondition(recordOffset >= 0 && recordOffset + recordSize <= buffer.count, "record outside buffer")
        buffer.withUnsafeMutableBytes {
            patchRecord(at: $0.baseAddress! + recordOffset, flags: flags, conflatedCount: conflatedCount)
        }
    }
}
