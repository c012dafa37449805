import FanoutHub
import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// One accepted TCP connection, from its first request byte to close.
/// Confined to its loop. The outbound queue is the subscriber's, so HTTP
/// answers, control replies and ticks share one ordered stream of bytes.
final class Connection: EventHandler {
    enum Phase {
        /// Reading the HTTP request head. Boxed: its parser is freed with the
        /// phase, so an upgraded connection does not carry it.
        case request(PendingRequest)
        /// An HTTP answer is queued; close once it is written.
        case responding
        case webSocket(Route)
        case closed
    }

    enum Route { case stream, echo, publish }

    unowned let worker: LoopWorker
    let fd: Int32
    let index: Int
    var token = EventToken.none
    /// The connection's hub side and outbound queue, created on first need:
    /// a byte that could not be written at once, or a subscription. An idle
    /// WebSocket (its 101 and welcome written straight to the socket, nothing
    /// subscribed) holds none, and the sweep drops it again once it is
    /// unsubscribed and drained (`releaseIdleSubscriber`): S3 measures this.
    private var subscriberStorage: Subscriber?
    var subscriber: Subscriber {
        if let s = subscriberStorage { return s }
        let s = Subscriber()
        s.ownerIndex = index
        subscriberStorage = s
        return s
    }
    /// The subscriber if there is one (never creates it).
    var existingSubscriber: Subscriber? { subscriberStorage }
    var outbound: OutboundQueue { subscriber.outbound }
    /// True when bytes wait in the queue (without creating one).
    var hasQueuedBytes: Bool { !(subscriberStorage?.outbound.isEmpty ?? true) }
    var phase: Phase
    var ws = WebSocketConnection(role: .server)

    /// Handshake, heartbeat, close-handshake and shutdown deadlines (pure rules).
    var deadlines = ConnectionDeadlines()
    var closeWhenFlushed = false
    var wantsWritable = false
    var isDirty = false
    var rate: TokenBucket
    /// Peer address, counted against the per-address limit until close.
    var peer: UInt128?
    /// Set when the connection was accepted only to be told no (past
    /// max-connections: 503; past the per-address limit: 429), unless it
    /// asks for /healthz or /metrics.
    var refusal: Refusal?
    /// The queue passed the per-connection cap (see `enforceCap`).
    var overCap = false
    /// Set while a message delivered before a failure in the same read is
    /// answered (see `perform`).
    var answeringBeforeClose = false

    enum Refusal { case capacity, perAddress }

    init(fd: Int32, index: Int, worker: LoopWorker) {
        self.fd = fd
        self.index = index
        self.worker = worker
        let config = worker.config
        phase = .request(PendingRequest(
            parser: HTTPRequestParser(maxHeaderBytes: config.maxHeaderBytes, maxHeaderCount: config.maxHeaderCount),
            acceptedAt: Clock.now()))
        rate = TokenBucket(perSecond: config.maxMessagesPerSecond)
    }

    var isClosed: Bool { if case .closed = phase { return true } else { return false } }

    // MARK: events

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        if events & (EpollEvents.readable | EpollEvents.readHangUp | EpollEvents.hangUp | EpollEvents.error) != 0 {
            readAvailable()
        }
        if !isClosed && events & EpollEvents.writable != 0 {
            flush()
        }
    }

    private func readAvailable() {
        let buffer = worker.readBuffer
        // A few reads per wake-up keeps one busy peer from starving the others.
        for _ in 0..<4 {
            guard !isClosed else { return }
            let result: IOResult
            do {
                result = try Syscall.read(fd, into: buffer)
            } catch {
                close()
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                receivedEOF()
                return
            case .processed(let n):
                received(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { return }
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .request(let pending):
            let result = pending.parser.append(bytes)
            switch result {
            case .needMore:
                return
            case .failed(let error):
                respond(status: error.status, text: error.reason)
            case .complete(let head, let consumed):
                route(head)
                if case .webSocket = phase, consumed < bytes.count {
                    receiveFrames(UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
                }
            }
        case .webSocket:
            receiveFrames(bytes)
        case .responding, .closed:
            // Pipelined or trailing bytes after a one-shot HTTP answer are ignored.
            return
        }
    }

    private func receivedEOF() {
        if case .webSocket = phase {
            worker.actions.removeAll(keepingCapacity: true)
            ws.receiveEOF(into: &worker.actions)
        }
        close()
    }

    // MARK: WebSocket

    func receiveFrames(_ bytes: UnsafeRawBufferPointer) {
        deadlines.peerIsAlive()
        var actions = worker.actions
        worker.actions = []
        actions.removeAll(keepingCapacity: true)
        let alreadyFailed = ws.failure != nil
        ws.receive(bytes, into: &actions)
        if !alreadyFailed, let failure = ws.failure {
            worker.metrics.add(worker.metrics.protocolErrors)
            worker.metrics.overload.countClose(failure.closeCode.rawValue)
            Log.debug("fd \(fd): protocol error \(failure), closing with \(failure.closeCode)")
            leaveHub()
        }
        perform(actions)
        actions.removeAll(keepingCapacity: true)
        worker.actions = actions
        // `/v1/publish`: the messages of this read leave as one batch.
        worker.publishIngest()
        flush()
    }

    func perform(_ actions: [WebSocketAction]) {
        for action in actions {
            switch action {
            case .deliver(let message):
                // The state machine may already have failed on a later frame
                // of the same read; a reply to a message that came before the
                // failure still goes out, ahead of the close frame.
                answeringBeforeClose = ws.state != .open
                deliver(message)
                answeringBeforeClose = false
            case .send(let bytes):
                enqueue(bytes)
            case .pongReceived:
                deadlines.peerIsAlive()
            case .startCloseTimer:
                deadlines.closeHandshakeStarted(at: Clock.now(), rules: worker.deadlineRules)
                leaveHub()
            case .closeTransport:
                closeWhenFlushed = true
                leaveHub()
            }
        }
    }

    private func deliver(_ message: WebSocketMessage) {
        guard case .webSocket(let route) = phase else { return }
        switch route {
        case .echo:
            switch message {
            case .text(let text): send(.text, Array(text.utf8))
            case .binary(let bytes): send(.binary, bytes)
            }
        case .stream:
            handleStreamMessage(message)
        case .publish:
            handlePublishMessage(message)
        }
    }

    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        if let frame = ws.encode(opcode, payload: payload) {
            enqueue(frame)
        } else if answeringBeforeClose {
            enqueue(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload))
        }
    }

    /// Starts the closing handshake with `code`; the peer gets `closeTimeoutMs` to answer.
    func startClose(_ code: WebSocketCloseCode, reason: String = "") {
        worker.metrics.overload.countClose(code.rawValue)
        var actions: [WebSocketAction] = []
        ws.close(code: code, reason: reason, into: &actions)
        perform(actions)
        flush()
    }

    func leaveHub() {
        if let s = subscriberStorage, s.hubIndex >= 0 {
            worker.hub.detach(s)
        }
    }

    /// Sweep: a subscriber with no subscription, nothing queued and nothing
    /// in flight is dropped; it is recreated if the connection needs one again.
    private func releaseIdleSubscriber() {
        guard let s = subscriberStorage, !isDirty, s.outbound.isEmpty, s.symbols.isEmpty, !s.isConflating,
              s.cursor.headRemaining == 0 else { return }
        if s.hubIndex >= 0 { worker.hub.detach(s) }
        subscriberStorage = nil
    }

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
        let written: Int
        do {
            let result = try bytes.withUnsafeBytes { try Syscall.send(fd, $0) }
            if case .processed(let n) = result { written = n } else { written = 0 }
        } catch {
            // The peer is gone; the next flush or read notices and closes.
            written = 0
        }
        worker.metrics.add(worker.metrics.bytesWritten, UInt64(written))
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
    private func enforceCap() {
        if outbound.count > worker.config.hub.perConnectionCap { overCap = true }
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
        guard let subscriber = subscriberStorage else {
            // Nothing was ever queued (or the queue was dropped empty).
            if closeWhenFlushed {
                close()
                return
            }
            setWritableInterest(false)
            return
        }
        let outbound = subscriber.outbound
        let writer = worker.writer
        while true {
            // A conflating connection whose queue has drained gets its slots
            // (newest tick per symbol) now, even if folding left nothing else.
            if subscriber.isConflating {
                worker.hub.drain(subscriber, sendTimeNs: Clock.wallNanos())
            }
            if outbound.isEmpty { break }
            writer.reset()
            outbound.forEachSegment { writer.append($0) }
            let result: IOResult
            do {
                result = try writer.send(to: fd)
            } catch {
                close()
                return
            }
            guard case .processed(let n) = result else { break }
            subscriber.cursor.advance(by: n, in: outbound)
            outbound.consume(n)
            subscriber.bytesWritten &+= n
            worker.metrics.add(worker.metrics.bytesWritten, UInt64(n))
            if n < writer.byteCount { break }
        }
        if outbound.isEmpty && closeWhenFlushed {
            close()
            return
        }
        subscriber.noteFlush(now: outbound.isEmpty ? 0 : Clock.monotonicNanos())
        setWritableInterest(!outbound.isEmpty)
    }

    /// A connection is registered in the loop's priority set while it speaks
    /// HTTP (so /healthz, /metrics and handshakes never wait behind fan-out
    /// work); once upgraded it streams, and waits its turn like the others.
    func leavePrioritySet() {
        var mask = EpollEvents.readable | EpollEvents.readHangUp
        if wantsWritable { mask |= EpollEvents.writable }
        do {
            try worker.loop.setPriority(fd: fd, token: token, events: mask, priority: false)
        } catch {
            close()
        }
    }

    private func setWritableInterest(_ on: Bool) {
        guard on != wantsWritable else { return }
        wantsWritable = on
        var mask = EpollEvents.readable | EpollEvents.readHangUp
        if on { mask |= EpollEvents.writable }
        do {
            try worker.loop.modify(fd: fd, token: token, events: mask)
        } catch {
            close()
        }
    }

    /// Closes with `code` ahead of everything queued: the frame being written
    /// finishes, the rest (stale ticks, conflation slots) is dropped, and the
    /// close frame is the next thing the peer reads.
    func closeNext(_ code: WebSocketCloseCode, reason: String) {
        leaveHub()
        if let s = subscriberStorage { worker.hub.discardBacklog(s) }
        // The kernel's unsent bytes are at their cap for a stalled reader;
        // lift it (0 = the system default) so the close frame fits in the
        // send buffer behind them and reaches the peer even after we close.
        if worker.config.notSentLowWaterBytes > 0 { Syscall.setNotSentLowWater(fd, bytes: 0) }
        startClose(code, reason: reason)
    }

    func close() {
        guard !isClosed else { return }
        releaseIngestClaims()
        if case .webSocket = phase { worker.metrics.webSockets.wrappingSubtract(1, ordering: .relaxed) }
        phase = .closed
        leaveHub()
        worker.loop.unregister(fd: fd, token: token)
        Syscall.close(fd)
        subscriberStorage?.outbound.removeAll()
        worker.forget(self)
    }

    // MARK: deadlines

    /// One sweep: performs whatever `deadlines` says is due at `now`.
    func checkDeadlines(now: Instant) {
        let timing: ConnectionDeadlines.Phase
        switch phase {
        case .request(let pending):
            timing = .request(acceptedAt: pending.acceptedAt, refused: refusal != nil)
        case .webSocket where ws.state == .open:
            // An idle connection keeps no buffer: a busy one refills it within a sweep.
            if let s = subscriberStorage, s.outbound.isEmpty && !isDirty { s.outbound.shrink() }
            releaseIdleSubscriber()
            let since = subscriberStorage?.backlogSinceNanos ?? 0
            timing = .open(backlogSince: since == 0 ? nil : Instant(nanoseconds: since))
        case .webSocket, .responding, .closed:
            timing = .other
        }
        switch deadlines.check(now: now, phase: timing, rules: worker.deadlineRules) {
        case .none:
            return
        case .closeTransport:
            close()
        case .requestTimedOut(let limit):
            worker.metrics.add(worker.metrics.handshakeTimeouts)
            respond(status: 408, text: "request head not received within \(limit.milliseconds) ms")
        case .closeSlowConsumer:
            worker.metrics.add(worker.metrics.slowConsumerCloses)
            closeNext(.slowConsumer, reason: "slow consumer")
        case .closeHeartbeatTimeout:
            worker.metrics.add(worker.metrics.heartbeatTimeouts)
            startClose(.heartbeatTimeout, reason: "no pong")
        case .sendPing:
            send(.ping, [])
            flush()
        }
    }

    func shutdown(deadline: Instant) {
        deadlines.shutdown(deadline: deadline)
        switch phase {
        case .webSocket:
            if ws.state == .open { closeNext(.goingAway, reason: "server shutting down") }
        case .request:
            close()
        case .responding, .closed:
            return
        }
    }
}

/// The state of a connection still reading its request head.
final class PendingRequest {
    var parser: HTTPRequestParser
    /// The request head must be complete by acceptedAt + handshake timeout.
    let acceptedAt: Instant

    init(parser: HTTPRequestParser, acceptedAt: Instant) {
        self.parser = parser
        self.acceptedAt = acceptedAt
    }
}

/// Inbound message budget: `perSecond` tokens, refilled continuously, with a
/// burst of the same size. Counts control requests. 24 bytes: it lives in
/// every connection, so idle memory counts its fields.
struct TokenBucket {
    let capacity: Float
    var tokens: Float
    var last: UInt64
    /// Requests refused since the bucket was last full; 10x the rate closes the connection.
    var refusals: Int32 = 0

    init(perSecond: Int) {
        capacity = Float(max(1, perSecond))
        tokens = capacity
        last = Clock.monotonicNanos()
    }

    mutating func take(now: UInt64) -> Bool {
        tokens = min(capacity, tokens + Float(Double(now &- last) / 1e9) * capacity)
        last = now
        if tokens >= 1 {
            tokens -= 1
            if tokens >= capacity - 1 { refusals = 0 }
            return true
        }
        refusals += 1
        return false
    }

    var isAbusive: Bool { Float(refusals) >= capacity * 10 }
}
