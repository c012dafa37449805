import CTickerShim
#if canImport(Glibc)
import Glibc
#endif

/// Many sockets' queued bytes sent with one `io_uring_enter` instead of one
/// `sendmsg` each: an event loop adds up to `capacity` queues, `submit()`s,
/// and reads each one's outcome. One per event loop, created on its thread
/// (the ring is single-issuer); every slot's iovecs and msghdr are allocated
/// once, so a batch allocates nothing.
///
/// Sends carry MSG_DONTWAIT: a full socket completes at once with EAGAIN
/// (`.wouldBlock`) rather than waiting inside io_uring, so the loop's
/// EPOLLOUT stays the one way a backlog drains, exactly as with `sendmsg`.
public final class SendBatch {
    /// What the kernel did with one slot's send.
    public enum Outcome: Equatable, Sendable {
        /// This many bytes reached the socket (fewer than `submittedBytes`: it is full).
        case sent(Int)
        /// The socket took nothing (EAGAIN).
        case wouldBlock
        case failed(SystemError)
        /// `io_uring_enter` failed before this send completed: whether its
        /// bytes left is unknown, so the stream cannot go on (close it).
        case lost
    }

    private let ring: OpaquePointer
    /// Sends per batch.
    public let capacity: Int
    private static let maxSegments = VectoredWriter.maxSegments
    private let vecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<msghdr>
    private let submitted: UnsafeMutablePointer<Int>
    private let results: UnsafeMutablePointer<Int32>
    private let completions: UnsafeMutablePointer<ticker_uring_cqe>
    /// Slots filled since the last `reset()`.
    public private(set) var count = 0
    /// Set when `io_uring_enter` failed: the owner should go back to `sendmsg`.
    public private(set) var isBroken = false
    /// Marks a slot whose completion never came (see `Outcome.lost`).
    private static let noResult = Int32.min

    /// A ring of `capacity` sends; throws when io_uring is unavailable
    /// (ENOSYS: an old kernel; EPERM: `kernel.io_uring_disabled` or seccomp).
    public init(capacity: Int) throws(SystemError) {
        var error: Int32 = 0
        guard let ring = ticker_uring_create(UInt32(capacity), &error) else {
            throw SystemError("io_uring_setup", errno: -error)
        }
        self.ring = ring
        // The kernel rounds up to a power of two; more slots than asked are not used.
        self.capacity = min(capacity, Int(ticker_uring_capacity(ring)))
        vecs = .allocate(capacity: self.capacity * Self.maxSegments)
        headers = .allocate(capacity: self.capacity)
        headers.initialize(repeating: msghdr(), count: self.capacity)
        submitted = .allocate(capacity: self.capacity)
        results = .allocate(capacity: self.capacity)
        completions = .allocate(capacity: self.capacity)
    }

    deinit {
        ticker_uring_destroy(ring)
        vecs.deallocate()
        headers.deallocate()
        submitted.deallocate()
        results.deallocate()
        completions.deallocate()
    }

    /// Why this process may not use io_uring (a throwaway one-entry ring
    /// says), or nil when it may.
    public static func probe() -> SystemError? {
        do {
            _ = try SendBatch(capacity: 1)
            return nil
        } catch {
            return error
        }
    }

    public static var isAvailable: Bool { probe() == nil }

    public func reset() { count = 0 }

    /// Queues `queue`'s segments (up to `VectoredWriter.maxSegments`, as a
    /// `sendmsg` pass takes) for `fd`; the slot number, or nil when the batch
    /// is full or the queue empty. The bytes must not move until `submit()`.
    public func add(_ queue: some WriteQueue, fd: Int32) -> Int? {
        guard count < capacity else { return nil }
        let slot = count
        let base = vecs + slot * Self.maxSegments
        let (segments, bytes) = VectoredWriter.gather(queue, into: base)
        guard bytes > 0 else { return nil }
        headers[slot].msg_iov = base
        headers[slot].msg_iovlen = segments
        guard ticker_uring_queue_send(ring, fd, headers + slot, UInt64(slot)) == 0 else { return nil }
        submitted[slot] = bytes
        results[slot] = Self.noResult
        count += 1
        return slot
    }

    /// Bytes slot `slot` offered to its socket.
    public func submittedBytes(_ slot: Int) -> Int { submitted[slot] }

    /// Sends every added slot with one `io_uring_enter` and waits until all
    /// have completed (with MSG_DONTWAIT they complete during the call).
    public func submit() {
        guard count > 0 else { return }
        var error: Int32 = 0
        let n = Int(ticker_uring_submit_and_reap(ring, completions, UInt32(count), &error))
        for i in 0..<n {
            let slot = Int(completions[i].user_data)
            if slot < count { results[slot] = completions[i].res }
        }
        if error != 0 { isBroken = true }
    }

    /// What happened to slot `slot` in the last `submit()`.
    public func outcome(_ slot: Int) -> Outcome {
        let res = results[slot]
        if res >= 0 { return .sent(Int(res)) }
        if res == Self.noResult { return .lost }
        let error = SystemError("io_uring sendmsg", errno: -res)
        return error.isWouldBlock ? .wouldBlock : .failed(error)
    }
}
