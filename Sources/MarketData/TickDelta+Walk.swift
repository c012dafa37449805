extension TickDelta {
    /// What a record says without its receiver's state: enough to follow
    /// the sequence rule backwards through a stream (the server's fold of a
    /// delta connection's backlog, `LoopHub+Delta.swift`).
    public struct RecordSummary: Equatable, Sendable {
        public var symbolId: UInt32
        /// A keyframe's sequence; nil for a delta (previous + 1 + count).
        public var keyframeSequence: UInt64?
        public var flags: TickFlags
        public var conflatedCount: UInt32

        public init(symbolId: UInt32, keyframeSequence: UInt64?, flags: TickFlags, conflatedCount: UInt32) {
            self.symbolId = symbolId
            self.keyframeSequence = keyframeSequence
            self.flags = flags
            self.conflatedCount = conflatedCount
        }
    }

    /// Walks one delta message (header included) record by record, skipping
    /// every field it does not summarize; nil when the bytes are not a
    /// well-formed delta message (they never are not, from our own writer).
    public static func summarize(_ message: UnsafeRawBufferPointer) -> [RecordSummary]? {
        guard message.count >= TickWire.headerSize, message[TickWire.HeaderField.messageType] == messageType else { return nil }
        let count = Int(message[TickWire.HeaderField.recordCount]) | Int(message[TickWire.HeaderField.recordCount + 1]) << 8
        var r = TickDeltaDecoder.Reader(bytes: message, at: TickWire.headerSize)
        var out: [RecordSummary] = []
        out.reserveCapacity(count)
        while r.record < count {
            let (symbol, presence, flags, count) = r.recordHead()
            var summary = RecordSummary(symbolId: symbol, keyframeSequence: nil, flags: TickFlags(rawValue: flags), conflatedCount: count)
            var fields = 1   // time
            if presence & Presence.keyframe != 0 {
                summary.keyframeSequence = r.varint()
                _ = r.byte()   // exponent
                fields += 6
            } else {
                fields += (presence & Presence.deltaFields).nonzeroBitCount
            }
            while fields > 0 {
                _ = r.varint()
                fields -= 1
            }
            guard (try? r.check()) != nil else { return nil }
            out.append(summary)
            r.record += 1
        }
        return r.at == message.count ? out : nil
    }
}
