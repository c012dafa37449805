import CTickerShim
#if canImport(Glibc)
import Glibc
#endif

/// A reusable iovec array for one `sendmsg` per connection per flush. One per
/// event loop: filling it allocates nothing.
public final class VectoredWriter {
    /// Linux accepts up to IOV_MAX (1024) segments; 64 covers a whole outbound
    /// queue of 64 KiB chunks several times over, and a partial write just
    /// leaves the rest for the next EPOLLOUT.
    public static let maxSegments = 64

    private let vecs: UnsafeMutablePointer<iovec>
    public private(set) var count = 0
    public private(set) var byteCount = 0

    public init() {
        vecs = .allocate(capacity: Self.maxSegments)
    }

    deinit { vecs.deallocate() }

    /// Fills `vecs` (room for `maxSegments`) with `queue`'s segments, oldest
    /// first: what one pass of a flush offers the kernel. This writer's own
    /// array and each slot of a `SendBatch` are filled the same way.
    static func gather(
        _ queue: some WriteQueue, into vecs: UnsafeMutablePointer<iovec>
    ) -> (segments: Int, bytes: Int) {
        var segments = 0, bytes = 0
        queue.forEachQueuedSegment { append($0, to: vecs, count: &segments, bytes: &bytes) }
        return (segments, bytes)
    }

    private static func append(
        _ segment: UnsafeRawBufferPointer, to vecs: UnsafeMutablePointer<iovec>, count: inout Int, bytes: inout Int
    ) -> Bool {
        guard count < maxSegments else { return false }
        guard segment.count > 0 else { return true }
        vecs[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: segment.baseAddress), iov_len: segment.count)
        count += 1
        bytes += segment.count
        return true
    }

    /// Resets, then gathers `queue` (see `gather(_:into:)`).
    public func fill(from queue: some WriteQueue) {
        (count, byteCount) = Self.gather(queue, into: vecs)
    }

    /// One sendmsg(MSG_NOSIGNAL) of every segment the last `fill(from:)` gathered.
    public func send(to fd: Int32) throws(SystemError) -> IOResult {
        guard count > 0 else { return .processed(0) }
        let n = ticker_sendv(fd, vecs, Int32(count))
        if n >= 0 { return .processed(n) }
        let err = SystemError.last("sendmsg")
        if err.isWouldBlock { return .wouldBlock }
        throw err
    }
}
