import FanoutHub
import PosixIO
import WebSocketProtocol

/// The transport writes an outbox: each write also moves its frame cursor
/// (so the queue can be cut at a frame boundary for a close sent next) and
/// its written total (which dates the backlog).
extension Outbox: WriteQueue {
    public var queuedByteCount: Int { count }

    public func forEachQueuedSegment(_ body: (UnsafeRawBufferPointer) -> Bool) {
        queue.forEachSegment(body)
    }
}

/// Bytes out: direct writes while nothing is queued, the per-connection
/// cap, both flush paths (one `sendmsg` per pass, or the loop's io_uring
/// batch), epoll interest. When a connection is flushed is the loop's
/// `FlushScheduler`'s call.
extension Connection {
    /// Queues bytes for the peer, writing them straight to the socket when
    /// nothing is queued ahead of them. Small replies (the 101, the welcome,
    /// control answers) then never allocate a queue chunk, which is what keeps
    /// an idle connection's memory down to its objects.
    func enqueue(_ bytes: [UInt8]) {
        guard !hasQueuedBytes, !isClosed else {
            outbox.append(bytes)
            if outbox.count > worker.policy.backlog.perConnectionCap { repliesPastCap = true }
            return
        }
        let written = bytes.withUnsafeBytes { transport.writeNow($0) }
        worker.metrics.add(worker.metrics.bytesWritten, UInt64(written))
        worker.metrics.add(worker.metrics.socketSends)
        if written < bytes.count {
            // `bytes` is one unit (a frame, or the HTTP answer): its rest is now the head frame.
            bytes.withUnsafeBytes { outbox.queueRest(of: $0, written: written) }
        }
    }


    /// Writes as much of the outbox as the socket takes, in one sendmsg per
    /// pass; asks epoll for EPOLLOUT only while bytes remain.
    func flush() {
        guard !isClosed else { return }
        if repliesPastCap {
            repliesPastCap = false
            if case .webSocket = phase, ws.state == .open {
                worker.metrics.add(worker.metrics.protocolErrors)
                closeNext(.policyViolation, reason: "not reading its replies")
                return
            }
        }
        guard let outbox = existingOutbox else {
            // Nothing was ever queued (or the outbox was dropped empty).
            if isFinishing {
                close()
                return
            }
            setWritableInterest(false)
            return
        }
        let outcome = transport.flush(outbox, with: worker.flushes.writer) { refillIfDrained() }
        worker.metrics.add(worker.metrics.bytesWritten, UInt64(outcome.written))
        worker.metrics.add(worker.metrics.socketSends, UInt64(outcome.sends))
        if outcome.failed {
            close()
            return
        }
        finishFlush(outbox)
    }

    /// Where "drained" is reported, for both flush paths, ahead of every
    /// write: a conflating subscriber whose queue has drained below the
    /// low-water mark gets its slots (newest tick per symbol) now.
    private func refillIfDrained() {
        if let s = existingSubscriber, s.isConflating { worker.hub.drain(s, sendTimeNs: Clock.wallNanos()) }
    }

    /// After the writes of a flush: close if that was the last of it, date
    /// the backlog, and ask for EPOLLOUT only while bytes remain.
    private func finishFlush(_ outbox: Outbox) {
        if outbox.isEmpty && isFinishing {
            close()
            return
        }
        outbox.noteFlush(now: outbox.isEmpty ? 0 : Clock.monotonicNanos())
        setWritableInterest(!outbox.isEmpty)
    }

    // MARK: batched flush (io_uring)

    /// The outbox this connection offers to the loop's `SendBatch`, after
    /// what `flush()` does ahead of its first pass (`refillIfDrained`);
    /// nil when `flush()` should handle it instead: closed, over its cap,
    /// no outbox, or nothing to write.
    func outboxForBatch() -> Outbox? {
        guard !isClosed, !repliesPastCap, let outbox = existingOutbox else { return nil }
        refillIfDrained()
        return outbox.isEmpty ? nil : outbox
    }

    /// Applies what the batch's send did as `flush()` applies one pass: a
    /// whole write goes on with `flush()` while there is more to write (the
    /// socket may take it; a conflating queue refills), a short one or EAGAIN
    /// waits for EPOLLOUT, a failure closes. The caller counts the bytes
    /// written, once per batch.
    func finishBatchedFlush(_ outcome: SendBatch.Outcome, submitted: Int) {
        guard !isClosed, let outbox = existingOutbox else { return }
        switch outcome {
        case .sent(let n):
            outbox.didWrite(n)
            if n == submitted && (!outbox.isEmpty || existingSubscriber?.isConflating == true) {
                flush()
                return
            }
        case .wouldBlock:
            break
        case .failed, .lost:
            close()
            return
        }
        finishFlush(outbox)
    }

    /// Once upgraded, the connection streams and waits its turn like the others.
    func leavePrioritySet() {
        do {
            try transport.leavePrioritySet(on: worker.loop)
        } catch {
            close()
        }
    }

    func setWritableInterest(_ on: Bool) {
        do {
            try transport.setWritableInterest(on, on: worker.loop)
        } catch {
            close()
        }
    }
}
