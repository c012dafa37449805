/// Bytes waiting to be written to one socket, in order. The transport
/// gathers them into one `sendmsg` and reports how many the kernel took;
/// what a written byte means (frame boundaries, backlog age) is the owner's.
public protocol WriteQueue: AnyObject {
    var queuedByteCount: Int { get }
    /// Visits the queued bytes, oldest first, until `body` returns false.
    func forEachQueuedSegment(_ body: (UnsafeRawBufferPointer) -> Bool)
    /// The first `n` queued bytes reached the kernel: drop them.
    func didWrite(_ n: Int)
}

/// The socket side of one accepted connection on one event loop: it owns
/// the descriptor and its epoll registration (interest in writability, the
/// loop's priority set), writes bytes straight to the socket, and flushes a
/// `WriteQueue` with one `sendmsg` per pass. It knows nothing of HTTP,
/// WebSocket or ticks. Held inline by its connection (no allocation of its own).
public struct SocketTransport {
    public let descriptor: Descriptor
    public private(set) var token = EventToken.none
    /// EPOLLOUT is part of the registered mask (bytes remain after a flush).
    public private(set) var wantsWritable = false

    public init(descriptor: Descriptor) {
        self.descriptor = descriptor
    }

    /// The mask every connection keeps: readable, and peer half-close.
    private var baseEvents: UInt32 { EpollEvents.readable | EpollEvents.readHangUp }

    /// Registers the socket in the loop's priority set (see `leavePrioritySet`).
    public mutating func register(on loop: EventLoop, handler: some EventHandler) throws(SystemError) {
        token = try loop.register(descriptor, events: baseEvents, handler: handler, priority: true)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        try Syscall.read(descriptor.rawValue, into: buffer)
    }

    /// Writes `bytes` straight to the socket (nothing may be queued ahead of
    /// them) and returns how many it took; 0 when the socket takes none or
    /// the peer is gone (the next read or flush notices and closes).
    public func writeNow(_ bytes: UnsafeRawBufferPointer) -> Int {
        do {
            if case .processed(let n) = try Syscall.send(descriptor.rawValue, bytes) { return n }
        } catch {}
        return 0
    }

    /// What a flush did: bytes the kernel took (the rest waits for EPOLLOUT),
    /// and whether the socket failed (close it).
    public struct FlushOutcome: Equatable {
        public var written = 0
        public var failed = false
        /// `sendmsg` calls made (each pass is one).
        public var sends = 0
    }

    /// Writes as much of `queue` as the socket takes, one `sendmsg` per pass,
    /// until the socket is full or the queue empty. `beforeEachPass` runs
    /// ahead of every pass (a conflating connection refills its queue there).
    public func flush(
        _ queue: some WriteQueue, with writer: VectoredWriter, beforeEachPass: () -> Void
    ) -> FlushOutcome {
        var outcome = FlushOutcome()
        while true {
            beforeEachPass()
            if queue.queuedByteCount == 0 { break }
            writer.fill(from: queue)
            outcome.sends += 1
            let result: IOResult
            do {
                result = try writer.send(to: descriptor.rawValue)
            } catch {
                outcome.failed = true
                break
            }
            guard case .processed(let n) = result else { break }
            queue.didWrite(n)
            outcome.written += n
            if n < writer.byteCount { break }
        }
        return outcome
    }

    /// Asks epoll for EPOLLOUT only while bytes remain (no change, no syscall).
    public mutating func setWritableInterest(_ on: Bool, on loop: EventLoop) throws(SystemError) {
        guard on != wantsWritable else { return }
        wantsWritable = on
        try loop.modify(descriptor, token: token, events: baseEvents | (on ? EpollEvents.writable : 0))
    }

    /// A connection is registered in the loop's priority set while it speaks
    /// HTTP (so /healthz, /metrics and handshakes never wait behind fan-out
    /// work); once upgraded it streams, and waits its turn like the others.
    public func leavePrioritySet(on loop: EventLoop) throws(SystemError) {
        let mask = baseEvents | (wantsWritable ? EpollEvents.writable : 0)
        try loop.setPriority(fd: descriptor.rawValue, token: token, events: mask, priority: false)
    }

    /// Lifts (`bytes: 0`) or sets the kernel's cap on unsent bytes.
    /// No events at all until the interest is set again (`leavePrioritySet`,
    /// `setWritableInterest`): a parked upgrade waits with its socket quiet.
    public func silence(on loop: EventLoop) throws(SystemError) {
        try loop.modify(descriptor, token: token, events: 0)
    }

    public func setNotSentLowWater(bytes: Int) {
        Syscall.setNotSentLowWater(descriptor, bytes: bytes)
    }

    /// Unregisters and closes the descriptor. The transport is dead afterwards.
    public func close(on loop: EventLoop) {
        loop.unregister(descriptor, token: token)
        Syscall.close(descriptor)
    }
}
