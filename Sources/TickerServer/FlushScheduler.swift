import FanoutHub
import PosixIO

/// One per loop: which connections have bytes to write, in what order, for
/// how long at a time, and through which syscall. The hub decides what goes
/// into each outbox; the scheduler decides when it is written; the
/// connection writes it (`Connection+Output.swift`).
///
/// - Light before heavy: connections with a small queue (a few symbols, or a
///   client that keeps up) are written before those with a big backlog, so
///   a one-symbol client never waits behind a crowd of full-universe readers.
///   Light writes are cheap, so serving them first costs the heavy ones
///   little (shortest job first); the heavy ones fall behind into
///   conflation, which is their rule anyway.
/// - Time slices: a pass writes for at most a slice, then the loop looks at
///   its sockets again (ingest, handshakes, the other loop's batches) and
///   the pass goes on at the next wake-up.
/// - io_uring or sendmsg: with a ring (`--io-uring on`, the default where the
///   kernel has it) a chunk of connections goes out in one `io_uring_enter`;
///   without, one `sendmsg` each.
final class FlushScheduler {
    private var light: [Connection] = []
    private var heavy: [Connection] = []
    /// How many of `light` / `heavy` have been written so far this pass.
    private var nextLight = 0
    private var nextHeavy = 0
    /// A queue at most this long after a round counts as light
    /// (`OverloadPolicy.lightQueueBytes`).
    private let lightQueueBytes: Int
    /// The longest run of writes between looks at the loop's sockets
    /// (`OverloadPolicy.flushSlice`).
    private let slice: Nanoseconds
    /// Gathers one connection's queue for `sendmsg`.
    let writer = VectoredWriter()
    /// The loop's ring; nil: one `sendmsg` per connection.
    private(set) var sendBatch: SendBatch?
    /// Where the batch in flight's connections are in the list being written
    /// (indices: no reference counting per connection per batch).
    private var batchMembers: [Int] = []
    private let metrics: LoopMetrics

    init(metrics: LoopMetrics, policy: OverloadPolicy) {
        self.metrics = metrics
        lightQueueBytes = policy.lightQueueBytes
        slice = policy.flushSlice
    }

    /// Light connections of the current pass are still unwritten.
    var hasLightPending: Bool { nextLight < light.count }
    var hasPending: Bool { nextLight < light.count || nextHeavy < heavy.count }

    /// Lists a connection whose outbox got bytes, once per pass. One whose
    /// socket is full is left out: the kernel's EPOLLOUT writes it once the
    /// peer has read, so a pass does not spend a write on it.
    @inline(__always)
    func schedule(_ connection: Connection, _ outbox: Outbox) {
        guard !outbox.isScheduled, !connection.transport.wantsWritable else { return }
        outbox.isScheduled = true
        if outbox.count <= lightQueueBytes {
            light.append(connection)
        } else {
            heavy.append(connection)
        }
    }

    /// Writes scheduled connections in order for at most one slice. True
    /// when nothing is left; otherwise the caller wakes the loop again.
    func writeSome() -> Bool {
        guard hasPending else { return true }
        let deadline = Clock.now() + slice
        // Light first; heavy only once every light one is written. Heavy
        // writes are long (a big backlog each): smaller chunks keep the slice.
        if write(&light, from: &nextLight, until: deadline, chunk: sendBatch?.capacity ?? 32) {
            _ = write(&heavy, from: &nextHeavy, until: deadline, chunk: min(8, sendBatch?.capacity ?? 8))
        }
        return !hasPending
    }

    /// Writes `list` from `next` until the deadline, `chunk` connections at
    /// a time; the clock is read after each chunk. True, with the list
    /// emptied, when all of it was written.
    private func write(_ list: inout [Connection], from next: inout Int, until deadline: Instant, chunk: Int) -> Bool {
        while next < list.count {
            let end = min(list.count, next + chunk)
            if let batch = sendBatch {
                writeBatched(&list, from: &next, to: end, batch: batch)
            } else {
                while next < end {
                    let connection = list[next]
                    next += 1
                    connection.existingOutbox?.isScheduled = false
                    connection.flush()
                }
            }
            if next < list.count && Clock.now() >= deadline { return false }
        }
        list.removeAll(keepingCapacity: true)
        next = 0
        return true
    }

    // MARK: io_uring

    /// Creates this loop's ring (on the loop's thread: it is single-issuer),
    /// or says why the loop keeps to `sendmsg`.
    func startSendBatch(capacity: Int) {
        do {
            let batch = try SendBatch(capacity: capacity)
            sendBatch = batch
            batchMembers.reserveCapacity(batch.capacity)
            metrics.ioUringLoops.store(1, ordering: .relaxed)
        } catch {
            // `ticker serve` says it once for all loops, with the reason.
            Log.debug("io_uring unavailable (\(error)): this loop flushes with sendmsg")
        }
    }

    /// Writes `list[next..<end]` (at most the batch's capacity) through the
    /// ring: every outbox sent at once, then each outcome applied.
    /// Connections in unusual states (closing, over their cap, nothing
    /// queued) take `Connection.flush()` instead.
    private func writeBatched(_ list: inout [Connection], from next: inout Int, to end: Int, batch: SendBatch) {
        batch.reset()
        batchMembers.removeAll(keepingCapacity: true)
        while next < end {
            let connection = list[next]
            next += 1
            connection.existingOutbox?.isScheduled = false
            guard let outbox = connection.outboxForBatch(),
                  batch.add(outbox, fd: connection.descriptor.rawValue) != nil
            else {
                connection.flush()
                continue
            }
            batchMembers.append(next - 1)
        }
        guard !batchMembers.isEmpty else { return }
        batch.submit()
        metrics.add(metrics.ioUringSubmits)
        metrics.add(metrics.ioUringSends, UInt64(batchMembers.count))
        metrics.add(metrics.socketSends, UInt64(batchMembers.count))
        var written = 0
        for (slot, index) in batchMembers.enumerated() {
            let outcome = batch.outcome(slot)
            if case .sent(let n) = outcome { written += n }
            list[index].finishBatchedFlush(outcome, submitted: batch.submittedBytes(slot))
        }
        metrics.add(metrics.bytesWritten, UInt64(written))
        // The rest goes out with sendmsg from the next chunk on.
        if batch.isBroken {
            Log.warning("io_uring_enter failed: this loop flushes with sendmsg from now on")
            sendBatch = nil
            metrics.ioUringLoops.store(0, ordering: .relaxed)
        }
    }
}
