import CTickerShim
#if canImport(Glibc)
import Glibc
#endif

/// One thin wrapper per syscall. EINTR is retried here (or in the C shim);
/// EAGAIN becomes `.wouldBlock`; every other errno is thrown as `SystemError`.
public enum Syscall {
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult {
        try reading("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// `read` that also returns the kernel's arrival time (wall clock, ns) of
    /// the last segment it took, or 0 when none was stamped
    /// (`enableArrivalStamps` first). Load generators use it to tell the
    /// server's delivery from their own reading delay.
    public static func readStamped(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> (IOResult, arrivalNanos: UInt64) {
        var arrival: UInt64 = 0
        let result = try reading("recvmsg") { ticker_read_stamped(fd, buffer.baseAddress, buffer.count, &arrival) }
        return (result, arrival)
    }

    /// A read-like call's result: a count, EINTR retried, EAGAIN `.wouldBlock`.
    @inline(__always)
    private static func reading(_ name: String, _ call: () -> Int) throws(SystemError) -> IOResult {
        while true {
            let n = call()
            if n >= 0 { return .processed(n) }
            let err = SystemError.last(name)
            if err.errno == EINTR { continue }
            if err.isWouldBlock { return .wouldBlock }
            throw err
        }
    }

    /// Turns on the kernel's arrival stamps for `readStamped` (SO_TIMESTAMPNS).
    public static func enableArrivalStamps(_ fd: Int32) throws(SystemError) {
        let err = ticker_set_rx_timestamps(fd)
        if err != 0 { throw SystemError("setsockopt(SO_TIMESTAMPNS)", errno: err) }
    }

    /// Writes all of `bytes` or as much as the socket takes (MSG_NOSIGNAL, no SIGPIPE).
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult {
        var vec = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count)
        let n = ticker_sendv(fd, &vec, 1)
        if n >= 0 { return .processed(n) }
        let err = SystemError.last("sendmsg")
        if err.isWouldBlock { return .wouldBlock }
        throw err
    }

    public static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the fd is already released.
        _ = Glibc.close(fd)
    }

    /// Half-closes the sending side so the peer sees EOF after our last bytes.
    public static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Accepts one connection; nil when the backlog is empty.
    public static func accept(_ listenFD: Int32) throws(SystemError) -> Int32? {
        let fd = ticker_accept(listenFD)
        if fd >= 0 { return fd }
        let err = SystemError.last("accept4")
        if err.isWouldBlock { return nil }
        throw err
    }

    public static func setNoDelay(_ fd: Int32) {
        _ = ticker_set_nodelay(fd)
    }

    public static func setSendBuffer(_ fd: Int32, bytes: Int) {
        _ = ticker_set_sndbuf(fd, Int32(clamping: bytes))
    }

    public static func setReceiveBuffer(_ fd: Int32, bytes: Int) {
        _ = ticker_set_rcvbuf(fd, Int32(clamping: bytes))
    }

    /// Non-blocking TCP listener; `reusePort` lets one listener per event loop share the port.
    public static func listen(host: String, port: UInt16, backlog: Int32 = 4096, reusePort: Bool) throws(SystemError) -> Int32 {
        let fd = ticker_listen(host, port, backlog, reusePort ? 1 : 0)
        if fd < 0 { throw SystemError("listen \(host):\(port)", errno: -fd) }
        return fd
    }

    /// Turns SO_REUSEPORT on for a socket that is already bound and listening, so that
    /// later reuseport listeners on its port join its group (see `TickerServer`).
    public static func setReusePort(_ fd: Int32) throws(SystemError) {
        if ticker_set_reuseport(fd) < 0 { throw SystemError.last("setsockopt SO_REUSEPORT") }
    }

    public static func localPort(_ fd: Int32) -> UInt16 { ticker_local_port(fd) }

    /// Starts a non-blocking connect; completion is signalled by EPOLLOUT, then check `socketError`.
    public static func connect(host: String, port: UInt16, receiveBuffer: Int = 0) throws(SystemError) -> Int32 {
        let fd = ticker_connect(host, port, Int32(clamping: receiveBuffer))
        if fd < 0 { throw SystemError("connect \(host):\(port)", errno: -fd) }
        return fd
    }

    public static func socketError(_ fd: Int32) -> SystemError? {
        let err = ticker_socket_error(fd)
        return err == 0 ? nil : SystemError("connect", errno: err)
    }

    /// Ignore SIGPIPE process-wide: belt and braces beside MSG_NOSIGNAL, for any
    /// write path (e.g. a library user's own) that does not pass the flag.
    public static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }

    /// _exit(2): ends the process now, running no exit handlers, whatever
    /// other threads are doing (the drain watchdog's last resort).
    public static func exitImmediately(_ status: Int32) -> Never {
        Glibc._exit(status)
    }
}

/// Clocks. Wall-clock nanoseconds stamp ticks (they cross processes); the
/// monotonic clock drives deadlines (it never jumps).
public enum Clock {
    @inline(__always) public static func wallNanos() -> UInt64 { ticker_now_ns() }
    @inline(__always) public static func monotonicNanos() -> UInt64 { ticker_monotonic_ns() }
    /// Now on the monotonic clock.
    @inline(__always) public static func now() -> Instant { Instant(nanoseconds: ticker_monotonic_ns()) }
}

extension Clock {
    /// Blocks the calling thread until the monotonic clock reaches `deadline`.
    public static func sleep(untilMonotonic deadline: UInt64) { ticker_sleep_until(deadline) }

    /// Blocks the calling thread until the monotonic clock reaches `deadline`.
    public static func sleep(until deadline: Instant) { ticker_sleep_until(deadline.nanoseconds) }
}

extension Syscall {
    public enum PollInterest: Sendable { case read, write }

    /// Waits until `fd` is readable (or writable), up to `timeoutMs` (-1 = forever).
    /// True when ready (including error/hang-up, which the next read reports).
    public static func poll(_ fd: Int32, for interest: PollInterest, timeoutMs: Int32) throws(SystemError) -> Bool {
        var p = pollfd(fd: fd, events: Int16(interest == .read ? POLLIN : POLLOUT), revents: 0)
        while true {
            let n = Glibc.poll(&p, 1, timeoutMs)
            if n > 0 { return true }
            if n == 0 { return false }
            let err = SystemError.last("poll")
            if err.errno == EINTR { continue }
            throw err
        }
    }
}

extension SystemError {
    /// Another socket holds the address and port (bind or listen failed).
    public var isAddressInUse: Bool { errno == EADDRINUSE }

    /// The errno as text alone ("Connection refused"), for messages that say
    /// themselves what was being done.
    public var reason: String { String(cString: strerror(errno)) }
}
