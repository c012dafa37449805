/// The outcome of a non-blocking read or write that did not fail.
public enum IOResult: Equatable, Sendable {
    /// This many bytes moved (0 on read means the peer closed).
    case processed(Int)
    /// The socket is not ready (EAGAIN); wait for epoll to say so.
    case wouldBlock
}
