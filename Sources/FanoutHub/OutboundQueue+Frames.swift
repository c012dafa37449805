/// Frame-level views of the queue, for the rare moments a connection must
/// rewrite what it has queued: conflation folds queued tick records into
/// slots, and a close for a slow consumer (4001) or a shutdown (1001) must go
/// out next, not behind the backlog. Never used on the per-tick path.
extension OutboundQueue {
    /// Copies `n` bytes starting `offset` bytes after the head.
    public func copyBytes(from offset: Int, count n: Int, to destination: UnsafeMutableRawPointer) {
        precondition(offset >= 0 && n >= 0 && offset + n <= count, "copy outside the queue")
        var skip = offset
        var written = 0
        forEachSegment { segment in
            if skip >= segment.count {
                skip -= segment.count
                return true
            }
            let take = min(segment.count - skip, n - written)
            (destination + written).copyMemory(from: segment.baseAddress! + skip, byteCount: take)
            written += take
            skip = 0
            return written < n
        }
    }

    /// `n` queued bytes starting `offset` after the head, as an array.
    public func bytes(from offset: Int, count n: Int) -> [UInt8] {
        guard n > 0 else { return [] }
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            copyBytes(from: offset, count: n, to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = n
        }
    }

    /// The queued bytes after the first `offset`, as an array.
    public func bytes(after offset: Int) -> [UInt8] {
        bytes(from: offset, count: count - offset)
    }

    /// Length of the server-to-client (unmasked) WebSocket frame whose first
    /// byte is `offset` bytes after the head: header plus payload.
    public func frameLength(at offset: Int) -> Int {
        var header: (UInt8, UInt8) = (0, 0)
        withUnsafeMutableBytes(of: &header) { copyBytes(from: offset, count: 2, to: $0.baseAddress!) }
        let short = Int(header.1 & 0x7F)
        switch short {
        case 126:
            var extended: UInt16 = 0
            withUnsafeMutableBytes(of: &extended) { copyBytes(from: offset + 2, count: 2, to: $0.baseAddress!) }
            return 4 + Int(UInt16(bigEndian: extended))
        case 127:
            var extended: UInt64 = 0
            withUnsafeMutableBytes(of: &extended) { copyBytes(from: offset + 2, count: 8, to: $0.baseAddress!) }
            // Our own frames: the queue holds the whole frame, so it fits in an Int.
            return 10 + Int(UInt64(bigEndian: extended))
        default:
            return 2 + short
        }
    }

    /// Drops everything after the first `keep` bytes (the tail of the frame
    /// being written, which must finish for the stream to stay well-formed).
    public func truncate(keepingFirst keep: Int) {
        precondition(keep >= 0 && keep <= count, "truncate outside the queue")
        guard keep < count else { return }
        let head = bytes(from: 0, count: keep)
        removeAll()
        if !head.isEmpty { append(head) }
    }
}

/// Where the connection's write position stands relative to frame
/// boundaries: the bytes of the partly written frame still queued. Kept up
/// to date by the writer (`advance(by:)` before each `consume`), so the queue
/// can be cut right after the current frame at any moment.
public struct FrameCursor {
    /// Bytes of the head frame not yet written; 0 at a frame boundary.
    public private(set) var headRemaining = 0

    public init() {}

    /// Call before `queue.consume(n)`, with the bytes still in the queue.
    /// A flush that empties the queue ends on a boundary; only a partial
    /// write walks frame headers, so healthy connections pay nothing.
    public mutating func advance(by n: Int, in queue: OutboundQueue) {
        if n >= queue.count {
            headRemaining = 0
            return
        }
        var left = n
        var offset = 0
        while left > 0 {
            if headRemaining == 0 { headRemaining = queue.frameLength(at: offset) }
            let take = min(left, headRemaining)
            headRemaining -= take
            left -= take
            offset += take
        }
    }

    /// The queue was written to directly when it was empty and kept `rest`
    /// bytes of one unit (a frame or an HTTP head): that unit is the head.
    public mutating func startPartial(_ rest: Int) { headRemaining = rest }

    /// The queue was emptied or cut back to the head frame.
    public mutating func reset(keeping n: Int = 0) { headRemaining = n }
}
