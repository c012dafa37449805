/// What a client holds to read binary messages of either encoding: raw
/// (type 1) messages decode on their own, delta (type 2) ones against the
/// state kept here. One per connection; `reset` when it reconnects.
public struct TickStreamDecoder: Sendable {
    public private(set) var delta = TickDeltaDecoder()

    public init() {}

    public mutating func reset() { delta.reset() }

    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        case raw(TickWireError)
        case delta(TickDeltaError)

        public var description: String {
            switch self {
            case .raw(let e): "raw: \(e)"
            case .delta(let e): "delta: \(e)"
            }
        }
    }

    public mutating func decodeMessage(_ bytes: some Collection<UInt8>) throws(Failure) -> (sendTimeNs: UInt64, ticks: [Tick]) {
        let contiguous = Array(bytes)
        if contiguous.count > TickWire.HeaderField.messageType,
           contiguous[TickWire.HeaderField.messageType] == TickDelta.messageType {
            do { return try delta.decodeMessage(contiguous) } catch { throw .delta(error) }
        }
        do { return try TickWire.decodeMessage(contiguous) } catch { throw .raw(error) }
    }
}
