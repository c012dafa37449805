/// Why a binary frame was rejected; distinct cases so a client can tell a
/// newer server (version/type) from corruption (lengths).
public enum TickWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncatedHeader(length: Int)
    case unsupportedVersion(UInt8)
    case unknownMessageType(UInt8)
    case recordSizeTooSmall(Int)
    case lengthMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .truncatedHeader(let length):
            "message of \(length) bytes is shorter than the \(TickWire.headerSize)-byte header"
        case .unsupportedVersion(let version):
            "unsupported wire version \(version) (this decoder speaks \(TickWire.version))"
        case .unknownMessageType(let type):
            "unknown message type \(type)"
        case .recordSizeTooSmall(let size):
            "record size \(size) is smaller than the \(TickWire.recordSize) bytes of v1"
        case .lengthMismatch(let expected, let actual):
            "message length \(actual) does not match header (expected \(expected))"
        }
    }
}
