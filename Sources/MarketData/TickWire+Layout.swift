/// The byte offsets of every field of a v1 message, named once: the
/// encoder, the decoder, the in-place patcher, the server's message writer,
/// the benchmark's clients and the tests read them from here (the JavaScript
/// decoder, `Dashboard/ticker-client.js`, mirrors them). docs/PROTOCOL.md specifies
/// the same table; change both together.
extension TickWire {
    /// Offsets in the 16-byte message header.
    public enum HeaderField {
        /// u8, `TickWire.version`.
        public static let version = 0
        /// u8, `MessageType`.
        public static let messageType = 1
        /// u16, records that follow the header.
        public static let recordCount = 2
        /// u16, bytes per record (64 in v1; a decoder skips any extra).
        public static let recordSize = 4
        /// u16, zero.
        public static let reserved = 6
        /// u64, wall-clock nanoseconds when the message was queued to the connection.
        public static let sendTime = 8
    }

    /// Offsets in a 64-byte tick record.
    public enum RecordField {
        /// u32
        public static let symbolId = 0
        /// u8, `TickFlags`
        public static let flags = 4
        /// i8
        public static let priceExponent = 5
        /// u16, zero
        public static let reserved = 6
        /// u64, per-symbol sequence
        public static let sequence = 8
        /// u64, nanoseconds since the Unix epoch
        public static let eventTime = 16
        /// i64 mantissas
        public static let bid = 24
        public static let ask = 32
        public static let last = 40
        /// u32 sizes
        public static let bidSize = 48
        public static let askSize = 52
        public static let lastSize = 56
        /// u32, updates this record stands for beyond itself
        public static let conflatedCount = 60
    }
}
