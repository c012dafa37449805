import MarketData
import WebSocketProtocol

/// One connection's outgoing byte stream: every byte it will write, in
/// order (HTTP answers, control replies, pings, tick messages), with where
/// the writer stands in it. Owned by the connection, created on first need;
/// its subscriber (if it subscribes) writes ticks through it. Confined to
/// the connection's event loop.
///
/// The line between the hub and the outbox: the hub decides who gets which
/// tick and when a subscriber conflates; the outbox owns the bytes, so
/// everything that needs byte mechanics is here: the open tick message
/// (`TickMessageWriter` fills it), the frame cursor, the backlog clock, and,
/// for a fold, handing back the tick records queued behind the frame being
/// written while keeping every other frame in order (`takeBacklog`).
/// The socket side (direct writes, the `sendmsg` and io_uring flushes) is
/// the server's (`Connection+Output.swift`), and so are the two fields it
/// keeps here for the loop's flush scheduler (`ownerIndex`, `isScheduled`).
public final class Outbox {
    public let queue = OutboundQueue()
    /// Where the writer stands in the frame being written.
    public private(set) var cursor = FrameCursor()
    /// Monotonic time since which the queue has not been empty (0: empty at
    /// the last flush). Its age bounds how stale the oldest queued byte may
    /// be: what triggers conflation and, past the slow-consumer deadline,
    /// the 4001 close.
    public internal(set) var backlogSinceNanos: UInt64 = 0
    /// Bytes written to the socket, ever; with `backlogMark` it moves
    /// `backlogSinceNanos` forward while a busy queue keeps draining.
    private var bytesWritten = 0
    /// Where the queue ended at `backlogMarkNanos`: once written past it,
    /// every byte still queued was queued after that time.
    private var backlogMark = 0
    private var backlogMarkNanos: UInt64 = 0
    /// The open batched tick message, between the first record of a round
    /// and `TickMessageWriter.close`.
    var openHeader: UnsafeMutableRawPointer?
    var openRecords: Int32 = 0
    /// The open message is a delta message (type 2): its records are
    /// `openBytes` long in all.
    var openDelta = false
    var openBytes: Int32 = 0
    /// The connection's slot in its loop, so a touched subscriber leads
    /// back to its connection without a lookup.
    public let ownerIndex: Int
    /// Listed in the loop's flush schedule for the current round.
    public var isScheduled = false

    public init(ownerIndex: Int = -1) {
        self.ownerIndex = ownerIndex
    }

    public var count: Int { queue.count }
    public var isEmpty: Bool { queue.isEmpty }
    /// Nothing queued and no frame half written: the outbox can be dropped.
    public var isIdle: Bool { queue.isEmpty && cursor.headRemaining == 0 && !isScheduled }

    public func append(_ bytes: [UInt8]) { queue.append(bytes) }

    /// A unit (a frame, or an HTTP answer) was written straight to the
    /// socket while nothing was queued, and the socket took only `written`
    /// of its bytes: the rest is queued, and is now the head frame.
    public func queueRest(of unit: UnsafeRawBufferPointer, written: Int) {
        precondition(queue.isEmpty, "a direct write with bytes queued")
        cursor.startPartial(unit.count - written)
        queue.append(UnsafeRawBufferPointer(rebasing: unit[written...]))
    }

    /// The first `n` queued bytes reached the kernel.
    public func didWrite(_ n: Int) {
        cursor.advance(by: n, in: queue)
        queue.consume(n)
        bytesWritten &+= n
    }

    /// Keeps `backlogSinceNanos` a lower bound of the oldest queued byte's
    /// enqueue time: the time the queue stopped being empty, moved forward
    /// each time the writer passes a mark. A queue that never quite empties
    /// but keeps draining then shows the age of its data, not of the whole
    /// busy spell.
    public func noteFlush(now: UInt64) {
        let queued = queue.count
        if queued == 0 {
            backlogSinceNanos = 0
        } else if backlogSinceNanos == 0 {
            backlogSinceNanos = now
            backlogMark = bytesWritten + queued
            backlogMarkNanos = now
        } else if bytesWritten >= backlogMark {
            backlogSinceNanos = backlogMarkNanos
            backlogMark = bytesWritten + queued
            backlogMarkNanos = now
        }
    }

    /// Bytes queued behind the frame being written.
    var backlogBytes: Int { queue.count - cursor.headRemaining }

    /// For a fold: cuts the queue back to the frame being written, re-queues
    /// every non-tick frame behind it (control replies, pings) in order, and
    /// hands each queued tick record to `record`, oldest first. The caller
    /// closes any open message first.
    func takeBacklog(_ record: (Tick) -> Void) {
        cutBacklog { payload in
            guard payload.count >= TickWire.headerSize else { return false }
            var r = TickWire.headerSize
            while r + TickWire.recordSize <= payload.count {
                record(TickWire.decodeRecord(UnsafeRawBufferPointer(rebasing: payload[r..<(r + TickWire.recordSize)])))
                r += TickWire.recordSize
            }
            return true
        }
    }

    /// `takeBacklog` for a delta connection: each queued delta message's
    /// records as state-free summaries (`TickDelta.summarize`), oldest first.
    /// A binary frame is never re-queued, even one that could not be walked
    /// (our writer's bytes always can): a delta kept after dropped ones would
    /// decode wrong.
    func takeDeltaBacklog(_ record: (TickDelta.RecordSummary) -> Void) {
        cutBacklog { payload in
            for r in TickDelta.summarize(payload) ?? [] { record(r) }
            return true
        }
    }

    /// Cuts the queue back to the frame being written and walks the frames
    /// behind it, oldest first: each binary frame's payload goes to `take`,
    /// which says whether it consumed it; every other frame, and a binary one
    /// `take` declines, is re-queued in order.
    private func cutBacklog(_ take: (UnsafeRawBufferPointer) -> Bool) {
        let keep = cursor.headRemaining
        guard queue.count > keep else { return }
        let rest = queue.bytes(after: keep)
        queue.truncate(keepingFirst: keep)
        rest.withUnsafeBytes { raw in
            var at = 0
            while let frame = FrameExtent.of(raw, at: at) {
                let end = at + frame.size
                let taken = frame.opcode == WebSocketOpcode.binary.rawValue
                    && take(UnsafeRawBufferPointer(rebasing: raw[(at + frame.headerSize)..<end]))
                if !taken { queue.append(UnsafeRawBufferPointer(rebasing: raw[at..<end])) }
                at = end
            }
        }
    }

    /// Drops everything behind the frame being written, so that a close frame
    /// queued next is the next thing the peer reads.
    public func discardBacklog() {
        queue.truncate(keepingFirst: min(cursor.headRemaining, queue.count))
    }

    /// Frees the queue's memory, e.g. when the connection closes.
    public func removeAll() {
        queue.removeAll()
        cursor.reset()
        openHeader = nil
        openRecords = 0
        openDelta = false
        openBytes = 0
    }
}

/// Where the writer stands relative to frame boundaries: the bytes of the
/// partly written frame still queued. Moved by every write (`advance(by:)`
/// before the queue consumes), so the queue can be cut right after the
/// current frame at any moment.
public struct FrameCursor {
    /// Bytes of the head frame not yet written; 0 at a frame boundary.
    public private(set) var headRemaining = 0

    public init() {}

    /// Call before `queue.consume(n)`. A write that empties the queue ends on
    /// a boundary; only a partial write walks frame headers, so connections
    /// that keep up pay nothing.
    public mutating func advance(by n: Int, in queue: OutboundQueue) {
        if n >= queue.count {
            headRemaining = 0
            return
        }
        var left = n
        var offset = 0
        while left > 0 {
            if headRemaining == 0 { headRemaining = queue.frameLength(at: offset) }
            let take = min(left, headRemaining)
            headRemaining -= take
            left -= take
            offset += take
        }
    }

    /// A direct write left `rest` bytes of one unit: that unit is the head.
    mutating func startPartial(_ rest: Int) { headRemaining = rest }

    mutating func reset() { headRemaining = 0 }
}
