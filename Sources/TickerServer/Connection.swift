import FanoutHub
import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// One accepted TCP connection, from its first request byte to close.
/// Confined to its loop. Three parts, each with its own home:
/// - `transport` (`PosixIO.SocketTransport`): the descriptor, its epoll
///   interest and priority, direct writes and flushes;
/// - `session` (`StreamSession`): what a `/v1/stream` or `/v1/publish` peer
///   asked for: rate limit, control replies, subscriptions, resume, ingest;
/// - `deadlines` (`ConnectionDeadlines`): every timeout, as pure rules.
/// This class routes between them and the WebSocket state machine `ws`.
/// The outbound queue is the subscriber's, so HTTP answers, control replies
/// and ticks share one ordered stream of bytes.
final class Connection: EventHandler {
    enum Phase {
        /// Reading the HTTP request head. Boxed: its parser is freed with the
        /// phase, so an upgraded connection does not carry it.
        case request(PendingRequest)
        /// An upgrade read and validated but not yet performed: past the
        /// loop's upgrade pace (`UpgradePacer`) it waits its turn with its
        /// socket quiet, so a connect burst's handshakes never delay
        /// `/healthz` or `/metrics`. The request head and its parser are
        /// freed by then: a burst of parked upgrades holds ~100 bytes each,
        /// not the ~1 KiB of a head, whose freed remains used to stay in the
        /// heap between the connections allocated meanwhile (S3).
        case parked(ParkedUpgrade)
        /// An HTTP answer is queued; close once it is written.
        case responding
        case webSocket(Route)
        case closed
    }

    enum Route {
        case stream, echo, publish

        /// What a peer on this route may send in one frame and one message.
        func limits(_ config: ServerConfig) -> WebSocketLimits {
            switch self {
            case .stream:
                // 64 fragments: a control message is one small JSON text, so a client
                // that needs more is flooding (close 1008); the size bounds the message.
                WebSocketLimits(
                    maxFrameSize: config.maxInboundMessageBytes, maxMessageSize: config.maxInboundMessageBytes,
                    maxFragments: 64)
            case .echo:
                .echoConformance
            case .publish:
                WebSocketLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxFragments: 1024)
            }
        }
    }

    // Stored properties are laid out in declaration order: words first, then
    // the structs of 4-byte fields, then single bytes, so no padding is
    // spent between them. An idle connection is this object and its slots
    // in the loop's tables (S3: `TickerBench s3`, bytes per idle connection).
    /// The worker owns its connections (its table, dirty lists and pacer
    /// hold them; nothing else does), so it outlives each of them:
    /// `unowned(unsafe)` reads the pointer without the runtime's unowned
    /// retain and release per use, which the fan-out's flush pass does for
    /// every connection of every round.
    unowned(unsafe) let worker: LoopWorker
    /// Auth on: what the connection's token allows, or why it was refused.
    var access: ConnectionAccess?
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
    /// What a parked upgrade needs to be performed later.
    final class ParkedUpgrade {
        /// `Sec-WebSocket-Accept`, computed when the request was validated.
        let accept: String
        let query: String?
        let route: Route
        /// The request head's deadline still applies while it waits.
        let acceptedAt: Instant
        /// Frames sent right behind the upgrade wait with it.
        var leftover: [UInt8]

        init(accept: String, query: String?, route: Route, acceptedAt: Instant, leftover: [UInt8]) {
            self.accept = accept
            self.query = query
            self.route = route
            self.acceptedAt = acceptedAt
            self.leftover = leftover
        }
    }
    /// Peer address, counted against the per-address limit until close.
    /// Kept as two words (8-byte aligned) rather than a `UInt128?`, whose
    /// 16-byte alignment padded every connection by 15 bytes; 0 is none (no
    /// peer has the unspecified address `::`).
    private var peerWords: (high: UInt64, low: UInt64) = (0, 0)
    var peer: UInt128? {
        get { peerWords == (0, 0) ? nil : UInt128(peerWords.high) << 64 | UInt128(peerWords.low) }
        set {
            let value = newValue ?? 0
            peerWords = (UInt64(truncatingIfNeeded: value >> 64), UInt64(truncatingIfNeeded: value))
        }
    }
    /// Handshake, heartbeat, close-handshake and shutdown deadlines (pure rules).
    var deadlines = ConnectionDeadlines()
    var session: StreamSession
    /// Slot in the loop's table (`LoopWorker.connections`); 32 bits fill
    /// the gap `session` leaves before the next 8-byte boundary.
    private let slot: UInt32
    var index: Int { Int(slot) }
    var ws = WebSocketConnection(role: .server)
    var transport: SocketTransport
    /// Set when the connection was accepted only to be told no (past
    /// max-connections: 503; past the per-address limit: 429), unless it
    /// asks for /healthz or /metrics.
    var refusal: Refusal?
    private var flags: Flags = []

    private struct Flags: OptionSet {
        let rawValue: UInt8
        static let closeWhenFlushed = Flags(rawValue: 1 << 0)
        static let dirty = Flags(rawValue: 1 << 1)
        static let overCap = Flags(rawValue: 1 << 2)
        static let answeringBeforeClose = Flags(rawValue: 1 << 3)
    }

    private func flag(_ f: Flags) -> Bool { flags.contains(f) }
    private func set(_ f: Flags, _ on: Bool) { if on { flags.insert(f) } else { flags.remove(f) } }

    var closeWhenFlushed: Bool {
        get { flag(.closeWhenFlushed) }
        set { set(.closeWhenFlushed, newValue) }
    }
    /// Listed in the loop's dirty list (to be flushed this round).
    var isDirty: Bool {
        get { flag(.dirty) }
        set { set(.dirty, newValue) }
    }
    /// The queue passed the per-connection cap (see `enforceCap`).
    var overCap: Bool {
        get { flag(.overCap) }
        set { set(.overCap, newValue) }
    }
    /// Set while a message delivered before a failure in the same read is
    /// answered (see `perform`).
    var answeringBeforeClose: Bool {
        get { flag(.answeringBeforeClose) }
        set { set(.answeringBeforeClose, newValue) }
    }

    /// Why a request gets a retryable refusal instead of its answer; a
    /// connection holds `capacity` or `perAddress` from its accept on,
    /// `draining` applies to every request once shutdown began.
    enum Refusal { case capacity, perAddress, draining }

    init(descriptor: Descriptor, index: Int, worker: LoopWorker) {
        transport = SocketTransport(descriptor: descriptor)
        slot = UInt32(index)
        self.worker = worker
        let config = worker.config
        phase = .request(PendingRequest(
            parser: HTTPRequestParser(maxHeaderBytes: config.maxHeaderBytes, maxHeaderCount: config.maxHeaderCount),
            acceptedAt: Clock.now()))
        session = StreamSession(maxMessagesPerSecond: config.overload.maxMessagesPerSecond)
    }

    /// The descriptor, for logs and as the connection's identity in the ingest ledger.
    var descriptor: Descriptor { transport.descriptor }

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
                result = try transport.read(into: buffer)
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
        case .parked(let upgrade):
            // Frames sent right behind a parked upgrade wait with it.
            upgrade.leftover.append(contentsOf: bytes)
        case .request(let pending):
            let result = pending.parser.append(bytes)
            switch result {
            case .needMore:
                return
            case .failed(let error):
                respond(status: error.status, text: error.reason)
            case .complete(let head, let consumed):
                route(head, leftover: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
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
            Log.debug("\(descriptor): protocol error \(failure), closing with \(failure.closeCode)", ["client": clientText])
        }
        perform(actions)
        actions.removeAll(keepingCapacity: true)
        worker.actions = actions
        // `/v1/publish`: the messages of this read leave as one batch.
        worker.publishIngest()
        flush()
    }

    /// Performs what the state machine returned, in order.
    func perform(_ actions: [WebSocketAction]) {
        // The WebSocket stopped being open (a protocol failure, our close, the
        // peer's): the connection leaves the hub before anything else, so a
        // message answered before the close cannot subscribe it again.
        if ws.state != .open { leave() }
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
            case .closeTransport:
                closeWhenFlushed = true
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
            let admitted = session.rate.take(now: Clock.now())
            session.handleStreamMessage(message, admitted: admitted, on: self)
        case .publish:
            session.handlePublishMessage(message, on: self)
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

    /// The one way out of the hub: from `perform` once the WebSocket is no
    /// longer open, from `close()`, and when an idle subscriber is dropped.
    /// Safe to repeat.
    private func leave() {
        if let s = subscriberStorage, s.hubIndex >= 0 {
            worker.hub.detach(s)
        }
    }

    /// Sweep: a subscriber with no subscription, nothing queued and nothing
    /// in flight is dropped; it is recreated if the connection needs one again.
    func releaseIdleSubscriber() {
        guard let s = subscriberStorage, !isDirty, s.outbound.isEmpty, s.symbols.isEmpty, !s.isConflating,
              s.cursor.headRemaining == 0 else { return }
        leave()
        subscriberStorage = nil
    }

    /// Closes with `code` ahead of everything queued: the frame being written
    /// finishes, the rest (stale ticks, conflation slots) is dropped, and the
    /// close frame is the next thing the peer reads.
    func closeNext(_ code: WebSocketCloseCode, reason: String) {
        if let s = subscriberStorage { worker.hub.discardBacklog(s) }
        // The kernel's unsent bytes are at their cap for a stalled reader;
        // lift it (0 = the system default) so the close frame fits in the
        // send buffer behind them and reaches the peer even after we close.
        if worker.policy.notSentLowWaterBytes > 0 { transport.setNotSentLowWater(bytes: 0) }
        startClose(code, reason: reason)
    }

    func close() {
        guard !isClosed else { return }
        if case .webSocket(.publish) = phase { session.releaseIngestClaims(of: self) }
        if case .webSocket = phase { worker.metrics.webSockets.wrappingSubtract(1, ordering: .relaxed) }
        if let grant { worker.shared.access?.release(subject: grant.subject) }
        access = nil
        phase = .closed
        leave()
        transport.close(on: worker.loop)
        subscriberStorage?.outbound.removeAll()
        worker.forget(self)
    }
}
