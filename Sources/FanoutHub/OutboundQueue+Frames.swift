import WebSocketProtocol

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
    /// byte is `offset` bytes after the head: header plus payload, read by
    /// `FrameExtent`, the one reader of the frame layout. Our own frames: the
    /// queue holds each whole.
    public func frameLength(at offset: Int) -> Int {
        var header: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &header) { raw in
            let n = min(10, count - offset)
            copyBytes(from: offset, count: n, to: raw.baseAddress!)
            guard let frame = FrameExtent.header(UnsafeRawBufferPointer(rebasing: raw[0..<n]), at: 0) else {
                preconditionFailure("a queued frame with an incomplete header")
            }
            return frame.size
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
