/// An open file descriptor, as a type: the I/O layer's API takes and
/// returns these, so a descriptor cannot be confused with a count, a port
/// or an index. `rawValue` is for the syscall wrappers.
public struct Descriptor: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    @inline(__always) public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public var description: String { "fd \(rawValue)" }
}
