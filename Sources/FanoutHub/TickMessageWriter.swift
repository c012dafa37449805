import MarketData
import WebSocketProtocol

/// The one place that lays tick messages out in a connection's outbox:
/// the WebSocket binary frame (`WebSocketFrameEncoder`, the one writer of
/// the frame layout), the `TickWire` message header and the records. The hub decides who gets which tick and when to
/// conflate; it asks the writer to put records in place:
/// - live records of a round go into one open message per connection
///   (`appendLive`), whose headers are written when it closes (`close`);
/// - snapshots, conflated slots and replayed updates go out as whole
///   messages (`appendMessages`);
/// - per-tick delivery copies a batch's pre-framed one-record messages
///   (`perTickFrames`, `appendFramed`).
///
/// One send-time rule for all of them: a message carries the wall-clock
/// time it was queued to the connection (for fan-out, the round's start).
public struct TickMessageWriter: Sendable {
    /// Room reserved ahead of an open message's first record: the longest
    /// frame header an open message can need plus the message header;
    /// trimmed when it closes.
    let maxPrefix: Int
    /// The longest frame header of an open message (4 bytes for WebSocket:
    /// at most `maxOpenRecords` records fit the 16-bit length), so a
    /// one-record message trims 2 bytes and a longer one none.
    let openHeaderSize: Int

    /// A longer run starts a new message. 1,023 records (65,488 payload
    /// bytes) rather than the header's 65,535: a close sent "next" waits
    /// only for the message being written, so messages stay small enough
    /// for that to be prompt, and the frame header stays short.
    static let maxOpenRecords: Int32 = 1_023

    public init() {
        openHeaderSize = Self.headerSize(TickWire.messageSize(recordCount: Int(Self.maxOpenRecords)))
        maxPrefix = openHeaderSize + TickWire.headerSize
    }

    /// Bytes of one framed single-record message.
    public func framedRecordSize() -> Int {
        let payload = TickWire.messageSize(recordCount: 1)
        return Self.headerSize(payload) + payload
    }

    /// A tick message is one unmasked binary frame.
    @inline(__always)
    static func headerSize(_ payloadLength: Int) -> Int {
        WebSocketFrameEncoder.headerSize(payloadLength: payloadLength, masked: false)
    }

    @inline(__always)
    static func writeHeader(_ to: UnsafeMutableRawPointer, _ payloadLength: Int) {
        WebSocketFrameEncoder.writeHeader(to: to, opcode: .binary, payloadLength: payloadLength)
    }

    // MARK: live records (the per-record path)

    /// Appends one encoded record to the outbox's open message, opening one
    /// (and closing a full one) as needed. Returns the bytes of a message it
    /// closed, 0 if none.
    @inline(__always)
    func appendLive(_ record: UnsafeRawPointer, to o: Outbox, sendTimeNs: UInt64) -> Int {
        var closed = 0
        if o.openHeader == nil || o.openRecords == Self.maxOpenRecords {
            if o.openHeader != nil { closed = close(o, sendTimeNs: sendTimeNs) }
            o.openHeader = o.queue.reserve(maxPrefix)
        }
        o.queue.reserve(TickWire.recordSize).copyMemory(from: record, byteCount: TickWire.recordSize)
        o.openRecords += 1
        return closed
    }

    /// A delta connection's live record (`count` bytes, `TickDelta`): the
    /// same open message, of type 2, closed before its payload would pass
    /// 65,535 bytes, so its frame header stays as short as a raw one's.
    @inline(__always)
    func appendLiveDelta(_ record: UnsafeRawPointer, count: Int, to o: Outbox, sendTimeNs: UInt64) -> Int {
        var closed = 0
        if o.openHeader == nil || o.openRecords == Self.maxOpenRecords
            || Int(o.openBytes) + count > Self.maxDeltaRecordBytes {
            if o.openHeader != nil { closed = close(o, sendTimeNs: sendTimeNs) }
            o.openHeader = o.queue.reserve(maxPrefix)
            o.openDelta = true
        }
        o.queue.reserve(count).copyMemory(from: record, byteCount: count)
        o.openRecords += 1
        o.openBytes += Int32(count)
        return closed
    }

    /// Record bytes an open delta message holds at most.
    static let maxDeltaRecordBytes = Int(UInt16.max) - TickWire.headerSize

    /// Writes the open message's frame and message headers, drops the unused
    /// part of the reserved prefix, and returns the message's bytes (0 when
    /// none was open).
    @discardableResult
    func close(_ o: Outbox, sendTimeNs: UInt64) -> Int {
        guard let prefix = o.openHeader else { return 0 }
        let payload = o.openDelta ? TickWire.headerSize + Int(o.openBytes) : TickWire.messageSize(recordCount: Int(o.openRecords))
        let headerSize = Self.headerSize(payload)
        let gap = openHeaderSize - headerSize
        Self.writeHeader(prefix + gap, payload)
        if o.openDelta {
            TickDelta.writeHeader(recordCount: Int(o.openRecords), sendTimeNs: sendTimeNs, to: prefix + openHeaderSize)
            o.openDelta = false
            o.openBytes = 0
        } else {
            TickWire.writeHeader(recordCount: Int(o.openRecords), sendTimeNs: sendTimeNs, to: prefix + openHeaderSize)
        }
        o.queue.removeGap(at: prefix, length: gap)
        o.openHeader = nil
        o.openRecords = 0
        return headerSize + payload
    }

    // MARK: whole messages

    /// Queues `ticks` as complete messages (snapshots, conflated slots,
    /// replayed updates), as many as the record count allows. Returns the
    /// messages and bytes queued.
    func appendMessages(_ ticks: [Tick], to queue: OutboundQueue, sendTimeNs: UInt64) -> (messages: Int, bytes: Int) {
        var start = 0
        var messages = 0, bytes = 0
        while start < ticks.count {
            let n = min(ticks.count - start, TickWire.maxRecordsPerMessage)
            let payload = TickWire.messageSize(recordCount: n)
            let headerSize = Self.headerSize(payload)
            let p = queue.reserve(headerSize + payload)
            Self.writeHeader(p, payload)
            TickWire.writeHeader(recordCount: n, sendTimeNs: sendTimeNs, to: p + headerSize)
            var at = p + headerSize + TickWire.headerSize
            for tick in ticks[start..<(start + n)] {
                TickWire.writeRecord(tick, to: at)
                at += TickWire.recordSize
            }
            messages += 1
            bytes += headerSize + payload
            start += n
        }
        return (messages, bytes)
    }

    /// Delta connections' whole messages: the first record of a symbol in a
    /// message is a keyframe (the receiver's state is not known here), the
    /// next ones deltas against it (a replay is mostly consecutive updates).
    func appendDeltaMessages(_ ticks: [Tick], to queue: OutboundQueue, sendTimeNs: UInt64) -> (messages: Int, bytes: Int) {
        var start = 0
        var messages = 0, bytes = 0
        var body: [UInt8] = []
        var previous: [UInt32: Tick] = [:]
        while start < ticks.count {
            let n = min(ticks.count - start, TickWire.maxRecordsPerMessage)
            body.removeAll(keepingCapacity: true)
            previous.removeAll(keepingCapacity: true)
            for tick in ticks[start..<(start + n)] {
                TickDelta.appendRecord(tick, reference: previous[tick.symbolId], sendTimeNs: sendTimeNs, to: &body)
                previous[tick.symbolId] = tick
            }
            let payload = TickWire.headerSize + body.count
            let headerSize = Self.headerSize(payload)
            let p = queue.reserve(headerSize + payload)
            Self.writeHeader(p, payload)
            TickDelta.writeHeader(recordCount: n, sendTimeNs: sendTimeNs, to: p + headerSize)
            body.withUnsafeBytes { (p + headerSize + TickWire.headerSize).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            messages += 1
            bytes += headerSize + payload
            start += n
        }
        return (messages, bytes)
    }

    // MARK: per-tick delivery

    /// One framed single-record message per record of `records`, for
    /// one-tick-per-message delivery; built once per batch.
    public func perTickFrames(records: [UInt8], count: Int) -> [UInt8] {
        let payload = TickWire.messageSize(recordCount: 1)
        let headerSize = Self.headerSize(payload)
        let size = headerSize + payload
        return [UInt8](unsafeUninitializedCapacity: count * size) { buffer, initialized in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            records.withUnsafeBytes { raw in
                for i in 0..<count {
                    let p = base + i * size
                    Self.writeHeader(p, payload)
                    TickWire.writeHeader(recordCount: 1, sendTimeNs: 0, to: p + headerSize)
                    (p + headerSize + TickWire.headerSize)
                        .copyMemory(from: raw.baseAddress! + i * TickWire.recordSize, byteCount: TickWire.recordSize)
                }
            }
            initialized = count * size
        }
    }

    /// Copies one pre-framed message (from `perTickFrames`) into the queue and
    /// stamps its send time.
    @inline(__always)
    func appendFramed(_ frame: UnsafeRawPointer, size: Int, to queue: OutboundQueue, sendTimeNs: UInt64) {
        let p = queue.reserve(size)
        Self.copyFrame(to: p, from: frame, count: size)
        p.storeBytes(of: sendTimeNs.littleEndian,
                     toByteOffset: size - TickWire.recordSize - TickWire.headerSize + TickWire.HeaderField.sendTime,
                     as: UInt64.self)
    }

    /// A per-tick frame (80 bytes over WebSocket) copied in 16- and 8-byte
    /// moves the compiler keeps inline: `copyMemory` with a size known only
    /// at run time becomes a call to libc's `memmove` per (tick, subscriber)
    /// pair.
    @inline(__always)
    static func copyFrame(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
        var i = 0
        while i + 16 <= count {
            destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: SIMD2<UInt64>.self),
                                   toByteOffset: i, as: SIMD2<UInt64>.self)
            i += 16
        }
        if i + 8 <= count {
            destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            destination.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
            i += 1
        }
    }
}
