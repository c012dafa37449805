#if canImport(Glibc)
import Glibc
#endif

/// An errno from a named syscall. Errors are values so callers can switch on
/// the ones that are part of normal operation (`wouldBlock`, `connectionReset`).
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The errno of the calling thread, read immediately after a failed call.
    static func last(_ call: String) -> SystemError {
        SystemError(call, errno: Glibc.errno)
    }

    public var isWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK }
    /// Out of file descriptors, process- or system-wide: back off instead of retrying.
    public var isDescriptorExhaustion: Bool { errno == EMFILE || errno == ENFILE }
    /// The peer went away; an expected end of a connection, not a server fault.
    public var isPeerGone: Bool { errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN || errno == ETIMEDOUT }

    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
