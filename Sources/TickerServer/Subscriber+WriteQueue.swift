import FanoutHub
import PosixIO

/// The transport flushes a subscriber's queue; each write also moves the
/// frame cursor (so the queue can be cut at a frame boundary for a close
/// sent next) and the written total (which dates the backlog).
extension Subscriber: WriteQueue {
    public var queuedByteCount: Int { outbound.count }

    public func forEachQueuedSegment(_ body: (UnsafeRawBufferPointer) -> Bool) {
        outbound.forEachSegment(body)
    }

    public func didWrite(_ n: Int) {
        cursor.advance(by: n, in: outbound)
        outbound.consume(n)
        bytesWritten &+= n
    }
}
