/// A connection's pending outbound bytes: a list of fixed-size chunks with
/// stable addresses, so a flush can hand all of them to one `sendmsg` as an
/// iovec array, and the hot path can write records straight into place.
///
/// Not thread-safe: it belongs to one connection on one event loop.
public final class OutboundQueue {
    /// Big enough that a busy connection's batch fits in one or two chunks,
    /// small enough that an idle connection holds none at all.
    public static let chunkSize = 64 * 1024

    private final class Chunk {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        var readIndex = 0
        var writeIndex = 0

        init(capacity: Int) {
            self.capacity = capacity
            base = .allocate(byteCount: capacity, alignment: 16)
        }

        deinit { base.deallocate() }

        var free: Int { capacity - writeIndex }
        var readable: Int { writeIndex - readIndex }
    }

    private var chunks: [Chunk] = []
    /// One drained chunk kept for reuse, so a steady stream does not malloc.
    private var spare: Chunk?
    /// Bytes queued and not yet written.
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    /// Bytes of memory held (chunks allocated), for accounting.
    public var allocatedBytes: Int {
        var bytes = spare?.capacity ?? 0
        for chunk in chunks { bytes += chunk.capacity }
        return bytes
    }

    private func tail(forContiguous n: Int) -> Chunk {
        tailCache = nil
        if let last = chunks.last, last.free >= n { return last }
        let chunk: Chunk
        if n <= Self.chunkSize, let reused = spare {
            spare = nil
            reused.readIndex = 0
            reused.writeIndex = 0
            chunk = reused
        } else {
            chunk = Chunk(capacity: max(n, Self.chunkSize))
        }
        chunks.append(chunk)
        return chunk
    }

    /// Commits `n` contiguous bytes at the end of the queue and returns where
    /// to write them. The caller must fill all `n` before the next flush.
    @inline(__always)
    public func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        // Fast path without touching the chunk array: the cached tail has room.
        if let cached = tailCache {
            let fits = cached._withUnsafeGuaranteedRef { chunk -> UnsafeMutableRawPointer? in
                guard chunk.free >= n else { return nil }
                let p = chunk.base + chunk.writeIndex
                chunk.writeIndex += n
                return p
            }
            if let p = fits {
                count += n
                return p
            }
        }
        let chunk = tail(forContiguous: n)
        tailCache = Unmanaged.passUnretained(chunk)
        let p = chunk.base + chunk.writeIndex
        chunk.writeIndex += n
        count += n
        return p
    }

    /// The newest chunk, unretained (`chunks` owns it); nil whenever the
    /// chunk list changes shape, so it can never outlive its chunk.
    private var tailCache: Unmanaged<Chunk>?

    public func append(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let chunk = tail(forContiguous: 1)
            let n = min(chunk.free, bytes.count - offset)
            (chunk.base + chunk.writeIndex).copyMemory(from: bytes.baseAddress! + offset, byteCount: n)
            chunk.writeIndex += n
            count += n
            offset += n
        }
    }

    public func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Removes `gap` bytes that were reserved at `position` but not used.
    /// Only valid for a region before anything was flushed past `position`.
    /// This lets a batch reserve room for the longest frame header and keep
    /// only as many bytes as the real header needs. The shorter side moves:
    /// the bytes after the gap (the message just closed) when they end the
    /// queue, else the bytes queued before it in the same chunk — which for
    /// a connection with a backlog is the whole backlog, too much to move
    /// on every message.
    public func removeGap(at position: UnsafeMutableRawPointer, length gap: Int) {
        guard gap > 0 else { return }
        for i in stride(from: chunks.count - 1, through: 0, by: -1) {
            let chunk = chunks[i]
            let offset = position - chunk.base
            guard offset >= chunk.readIndex && offset + gap <= chunk.writeIndex else { continue }
            let before = offset - chunk.readIndex
            let after = chunk.writeIndex - (offset + gap)
            if i == chunks.count - 1 && after < before {
                if after > 0 { position.copyMemory(from: position + gap, byteCount: after) }
                chunk.writeIndex -= gap
            } else {
                if before > 0 {
                    (chunk.base + chunk.readIndex + gap).copyMemory(from: chunk.base + chunk.readIndex, byteCount: before)
                }
                chunk.readIndex += gap
            }
            count -= gap
            return
        }
        preconditionFailure("removeGap outside the queue")
    }

    /// Visits readable segments in order until `body` returns false.
    public func forEachSegment(_ body: (UnsafeRawBufferPointer) -> Bool) {
        var i = 0
        while i < chunks.count {
            let c = chunks[i]
            if c.readable > 0, !body(UnsafeRawBufferPointer(start: c.base + c.readIndex, count: c.readable)) { return }
            i += 1
        }
    }

    /// Drops `n` bytes from the front (they were written to the socket).
    public func consume(_ n: Int) {
        precondition(n <= count, "consume past the end")
        var left = n
        count -= n
        // Drained chunks are freed now, not in batches: a reader that always
        // has a backlog never empties the queue, and would keep every chunk
        // it ever read. The array holds a handful of chunks, so the shift
        // costs nothing next to the write that consumed them.
        var drained = 0
        while left > 0 {
            let c = chunks[drained]
            let take = min(left, c.readable)
            c.readIndex += take
            left -= take
            guard c.readable == 0 else { continue }
            if drained == chunks.count - 1 {
                // The newest chunk emptied: keep writing into it from the start.
                c.readIndex = 0
                c.writeIndex = 0
                break
            }
            if spare == nil && c.capacity == Self.chunkSize { spare = c }
            drained += 1
        }
        if drained > 0 { chunks.removeFirst(drained) }
    }

    /// Frees everything, e.g. when the connection closes.
    public func removeAll() {
        tailCache = nil
        chunks.removeAll()
        spare = nil
        count = 0
    }

    /// Drops the chunk kept for reuse: a connection that has stopped reading
    /// will not need it soon, and its memory should be only its backlog.
    public func releaseSpare() {
        spare = nil
    }

    /// Releases the spare chunk and an empty tail, so an idle connection holds no buffer.
    public func shrink() {
        spare = nil
        if count == 0 {
            tailCache = nil
            chunks.removeAll()
            }
    }
}
