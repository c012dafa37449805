/// Bounds on what one peer's stream can make the parser hold. Every check happens when
/// the bytes declaring a size arrive, before anything is reserved for it.
public struct RESPLimits: Sendable, Equatable {
    /// Longest line (simple string, error, number, header) without its CRLF. Redis's own
    /// replies are short; 64 KiB leaves room for long error texts.
    public var maxLineLength: Int
    /// Largest bulk string. Our stream entries are tick batches of a few hundred KiB at
    /// most; Redis itself allows 512 MiB, far more than a gateway should buffer.
    public var maxBulkLength: Int
    /// Most elements one aggregate may declare (a map's pairs count twice).
    public var maxAggregateCount: Int
    /// Deepest nesting of aggregates. An XREAD reply is 4 deep; 32 is generous, and the
    /// parser is iterative so depth never touches the call stack.
    public var maxDepth: Int
    /// Most wire bytes one top-level value may span, which bounds the memory a reply
    /// under construction holds (an aggregate's count alone only bounds its width).
    public var maxValueBytes: Int

    public init(maxLineLength: Int = 64 * 1024, maxBulkLength: Int = 16 * 1024 * 1024,
                maxAggregateCount: Int = 1 << 20, maxDepth: Int = 32, maxValueBytes: Int = 64 * 1024 * 1024) {
        self.maxLineLength = max(1, maxLineLength)
        self.maxBulkLength = max(0, maxBulkLength)
        self.maxAggregateCount = max(0, maxAggregateCount)
        self.maxDepth = max(1, maxDepth)
        self.maxValueBytes = max(1, maxValueBytes)
    }

    public static let `default` = RESPLimits()
}
