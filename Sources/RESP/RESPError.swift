/// Every way a RESP byte stream can be malformed or exceed our limits. Errors are final:
/// after one, the reply boundaries in the stream are unknown and the link must be dropped.
public enum RESPError: Error, Equatable, Sendable {
    /// A type byte that neither RESP2 nor RESP3 defines.
    case unknownType(UInt8)
    /// RESP3 streamed strings/aggregates (`$?`, `*?`): Redis never sends them.
    case streamedTypeUnsupported
    /// No CRLF within `maxLineLength` bytes of a line's start.
    case lineTooLong
    /// A bare CR or LF inside a line, or a bulk payload not followed by CRLF.
    case badLineEnding
    case invalidInteger
    case invalidLength
    case invalidDouble
    case invalidBoolean
    case invalidBigNumber
    /// `_` with content, or a verbatim string without its `xxx:` format prefix.
    case malformed
    /// A declared bulk length above `maxBulkLength`; raised from the header alone.
    case bulkTooLong(Int64)
    /// A declared element count above `maxAggregateCount`; raised from the header alone.
    case aggregateTooLarge(Int64)
    /// More nested aggregates than `maxDepth`.
    case nestingTooDeep
    /// One top-level value larger than `maxValueBytes` on the wire.
    case valueTooLarge
}
