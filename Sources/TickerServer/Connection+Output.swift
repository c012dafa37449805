import FanoutHub
import PosixIO
import WebSocketProtocol

/// Bytes out: direct writes while nothing is queued, the per-connection
/// cap, flushes through the transport, epoll interest.
extension Connection {
    // MARK: writing

    /// Queues bytes for the peer, writing them straight to the socket when
    /// nothing is queued ahead of them. Small replies (the 101, the welcome,
    /// control answers) then never allocate a queue chunk, which is what keeps
    /// an idle connection's memory down to its objects.
    func enqueue(_ bytes: [UInt8]) {
        guard !hasQueuedBytes, !isClosed else {
            outbound.append(bytes)
            enforceCap()
            return
        }
        let written = bytes.withUnsafeBytes { transport.writeNow($0) }
        worker.metrics.add(worker.metrics.bytesWritten, UInt64(written))
        worker.metrics.add(worker.metrics.socketSends)
        if written < bytes.count {
            // `bytes` is one unit (a frame, or the HTTP answer): its rest is now the head frame.
            subscriber.cursor.startPartial(bytes.count - written)
            bytes.withUnsafeBytes { outbound.append(UnsafeRawBufferPointer(rebasing: $0[written...])) }
        }
    }

    /// A peer that floods pings or control requests and never reads would
    /// grow our queue without end (ticks are conflated, replies are not):
    /// past the per-connection cap it is cut off with 1008.
    /// Only marks it: the close happens at the next flush, outside whatever
    /// hub operation queued the reply.
    func enforceCap() {
        if outbound.count > worker.policy.backlog.perConnectionCap { overCap = true }
    }

    /// Writes as much of the queue as the socket takes, in one sendmsg per
    /// pass; asks epoll for EPOLLOUT only while bytes remain.
    func flush() {
        guard !isClosed else { return }
        if overCap {
            overCap = false
            if case .webSocket = phase, ws.state == .open {
                worker.metrics.add(worker.metrics.protocolErrors)
                closeNext(.policyViolation, reason: "not reading its replies")
                return
            }
        }
        guard let subscriber = existingSubscriber else {
            // Nothing was ever queued (or the queue was dropped empty).
            if closeWhenFlushed {
                close()
                return
            }
            setWritableInterest(false)
            return
        }
        let outcome = transport.flush(subscriber, with: worker.writer) { takeSlotsIfDrained(subscriber) }
        worker.metrics.add(worker.metrics.bytesWritten, UInt64(outcome.written))
        worker.metrics.add(worker.metrics.socketSends, UInt64(outcome.sends))
        if outcome.failed {
            close()
            return
        }
        finishFlush(subscriber)
    }

    /// What each write pass starts with: a conflating connection whose queue
    /// has drained gets its slots (newest tick per symbol) now, even if
    /// folding left nothing else.
    private func takeSlotsIfDrained(_ subscriber: Subscriber) {
        if subscriber.isConflating { worker.hub.drain(subscriber, sendTimeNs: Clock.wallNanos()) }
    }

    /// After the writes of a flush: close if that was the last of it, date
    /// the backlog, and ask for EPOLLOUT only while bytes remain.
    private func finishFlush(_ subscriber: Subscriber) {
        let outbound = subscriber.outbound
        if outbound.isEmpty && closeWhenFlushed {
            close()
            return
        }
        subscriber.noteFlush(now: outbound.isEmpty ? 0 : Clock.monotonicNanos())
        setWritableInterest(!outbound.isEmpty)
    }

    // MARK: batched flush (io_uring)

    /// The queue this connection offers to the loop's `SendBatch`, after
    /// what `flush()` does ahead of its first pass (`takeSlotsIfDrained`);
    /// nil when `flush()` should handle it instead: closed, over its cap,
    /// no queue, or nothing to write.
    func queueForBatch() -> Subscriber? {
        guard !isClosed, !overCap, let subscriber = existingSubscriber else { return nil }
        takeSlotsIfDrained(subscriber)
        return subscriber.queuedByteCount > 0 ? subscriber : nil
    }

    /// Applies what the batch's send did as `flush()` applies one pass: a
    /// whole write goes on with `flush()` while there is more to write (the
    /// socket may take it; a conflating queue refills), a short one or EAGAIN
    /// waits for EPOLLOUT, a failure closes. The caller counts the bytes
    /// written, once per batch.
    func finishBatchedFlush(_ outcome: SendBatch.Outcome, submitted: Int) {
        guard !isClosed, let subscriber = existingSubscriber else { return }
        switch outcome {
        case .sent(let n):
            subscriber.didWrite(n)
            if n == submitted && (subscriber.queuedByteCount > 0 || subscriber.isConflating) {
                flush()
                return
            }
        case .wouldBlock:
            break
        case .failed, .lost:
            close()
            return
        }
        finishFlush(subscriber)
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
