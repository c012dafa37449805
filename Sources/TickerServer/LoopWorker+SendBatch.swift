import PosixIO

/// `--io-uring on`: a loop's dirty connections are flushed in batches, one
/// `io_uring_enter` for up to `SendBatch.capacity` of them, instead of one
/// `sendmsg` each. Everything after the write (frame cursor, metrics,
/// close-when-flushed, EPOLLOUT interest) is `Connection.flush()`'s own.
extension LoopWorker {
    /// Creates this loop's ring (on the loop's thread: it is single-issuer),
    /// or says why the loop keeps to `sendmsg`.
    func startSendBatch() {
        do {
            let batch = try SendBatch(capacity: config.ioUringBatch)
            sendBatch = batch
            batchMembers.reserveCapacity(batch.capacity)
            metrics.ioUringLoops.store(1, ordering: .relaxed)
        } catch {
            // `ticker serve` says it once for all loops, with the reason.
            Log.debug("io_uring unavailable (\(error)): this loop flushes with sendmsg")
        }
    }

    /// Flushes `list[next..<end]` (at most the batch's capacity) through the
    /// ring: every queue sent at once, then each outcome applied. Connections
    /// in unusual states take `Connection.flush()` instead.
    func sendBatched(_ list: inout [Connection], from next: inout Int, to end: Int, batch: SendBatch) {
        batch.reset()
        batchMembers.removeAll(keepingCapacity: true)
        while next < end {
            let connection = list[next]
            next += 1
            connection.isDirty = false
            // Unusual states (closing, over its cap, nothing queued) take the usual path.
            guard let queue = connection.queueForBatch(),
                  batch.add(queue, fd: connection.descriptor.rawValue) != nil
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
        if batch.isBroken { abandonSendBatch() }
    }

    /// `io_uring_enter` failed: the connections of that batch were closed
    /// (`SendBatch.Outcome.lost`), and the loop goes back to `sendmsg`.
    private func abandonSendBatch() {
        Log.warning("io_uring_enter failed: this loop flushes with sendmsg from now on")
        sendBatch = nil
        metrics.ioUringLoops.store(0, ordering: .relaxed)
    }
}
