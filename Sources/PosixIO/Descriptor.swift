/// An open file descriptor, as a type: the I/O layer's API takes and
/// returns these, so a descriptor cannot be confused with a count, a port
/// or an index. `rawValue` is for the syscall wrappers.
public struct Descriptor: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    @inline(__always) public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public var description: String { "fd \(rawValue)" }
}

/// The typed face of the descriptor calls the server's accept path makes;
/// the `Int32` forms stay for the clients built on them.
extension Syscall {
    /// A new connection from a listening socket, non-blocking; nil when none is pending.
    public static func accept(_ listener: Descriptor) throws(SystemError) -> Descriptor? {
        try accept(listener.rawValue).map(Descriptor.init)
    }

    public static func close(_ descriptor: Descriptor) { close(descriptor.rawValue) }

    public static func peerAddress(_ descriptor: Descriptor) -> UInt128? { peerAddress(descriptor.rawValue) }

    public static func setNoDelay(_ descriptor: Descriptor) { setNoDelay(descriptor.rawValue) }

    public static func setSendBuffer(_ descriptor: Descriptor, bytes: Int) {
        setSendBuffer(descriptor.rawValue, bytes: bytes)
    }

    public static func setNotSentLowWater(_ descriptor: Descriptor, bytes: Int) {
        setNotSentLowWater(descriptor.rawValue, bytes: bytes)
    }
}

extension EventLoop {
    public func register(
        _ descriptor: Descriptor, events: UInt32, handler: some EventHandler, priority: Bool = false
    ) throws(SystemError) -> EventToken {
        try register(fd: descriptor.rawValue, events: events, handler: handler, priority: priority)
    }

    public func modify(_ descriptor: Descriptor, token: EventToken, events: UInt32) throws(SystemError) {
        try modify(fd: descriptor.rawValue, token: token, events: events)
    }

    public func unregister(_ descriptor: Descriptor, token: EventToken) {
        unregister(fd: descriptor.rawValue, token: token)
    }
}
