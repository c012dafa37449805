import CTickerShim

extension Syscall {
    /// Caps the kernel's not-yet-sent bytes for `fd` (TCP_NOTSENT_LOWAT), so
    /// a reader slower than its stream shows up as backlog in user space,
    /// where the server can conflate it, instead of megabytes of stale data
    /// hidden by send-buffer autotuning.
    public static func setNotSentLowWater(_ fd: Int32, bytes: Int) {
        _ = ticker_set_notsent_lowat(fd, Int32(clamping: bytes))
    }

    /// The peer's address as a 128-bit key (IPv4 mapped into IPv6), or nil.
    public static func peerAddress(_ fd: Int32) -> UInt128? {
        var raw: (UInt64, UInt64) = (0, 0)
        let rc = withUnsafeMutableBytes(of: &raw) { ticker_peer_address(fd, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
        guard rc == 0 else { return nil }
        return UInt128(raw.0) << 64 | UInt128(raw.1)
    }

    /// Starts a non-blocking IPv4 connect from the local address `source`.
    public static func connect(
        host: String, port: UInt16, from source: String, receiveBuffer: Int = 0
    ) throws(SystemError) -> Int32 {
        let fd = ticker_connect_from(host, port, source, Int32(clamping: receiveBuffer))
        if fd < 0 { throw SystemError("connect \(host):\(port) from \(source)", errno: -fd) }
        return fd
    }

    /// Raises the soft open-file limit to the hard one; returns the limit in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> Int {
        Int(ticker_raise_nofile_limit())
    }
}

/// Load generators spread their connections over local addresses of
/// 127.0.0.0/8, as a crowd of real clients comes from many addresses: the
/// server's per-address limit then applies as it would in production, and
/// each address has its own ephemeral ports.
public enum LoopbackSources {
    /// The source address for the `n`th connection: 127.0.0.2 ... 127.0.0.33.
    public static func address(_ n: Int) -> String { "127.0.0.\(2 + n % 32)" }
}

/// What the process holds, for `/metrics` and the memory-after-a-storm rule.
public enum ProcessStats {
    /// The soft open-file limit in force (`RLIMIT_NOFILE`); nil when unreadable.
    public static func openFileLimit() -> Int? {
        let n = ticker_nofile_limit()
        return n < 0 ? nil : Int(n)
    }

    /// Resident set size in bytes; nil when /proc cannot be read.
    public static func residentBytes() -> Int? {
        let n = ticker_resident_bytes()
        return n < 0 ? nil : Int(n)
    }

    /// CPUs this process may run on: its affinity mask (`taskset`, cpusets),
    /// which the processor count ignores; nil when it cannot be read.
    public static func availableCPUs() -> Int? {
        let n = ticker_available_cpus()
        return n > 0 ? Int(n) : nil
    }

    /// The C heap: bytes handed out by malloc, and bytes free but kept by it
    /// (what `malloc_trim` could give back); nil without glibc's mallinfo2.
    public static func heap() -> (inUse: Int, freeHeld: Int)? {
        var used: Int64 = -1, free: Int64 = -1
        ticker_heap_stats(&used, &free)
        return used < 0 ? nil : (Int(used), Int(free))
    }

    /// Open file descriptors; nil when /proc cannot be read.
    public static func openDescriptors() -> Int? {
        let n = ticker_open_descriptors()
        return n < 0 ? nil : Int(n)
    }

    /// Hands free heap pages back to the kernel (after many connections closed).
    public static func trimHeap() { _ = ticker_malloc_trim() }
}
