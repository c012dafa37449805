import FanoutHub
import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// One accepted TCP connection, from its first request byte to close.
/// Confined to its loop. Its parts, each with its own home:
/// - `phase` (`Connection+Phase.swift`): where it stands, one enum;
/// - `transport` (`PosixIO.SocketTransport`): the descriptor and its epoll interest;
/// - `outbox` (`FanoutHub.Outbox`): every byte it has still to write, in
///   order (HTTP answers, control replies, ticks), written by
///   `Connection+Output.swift` when the loop's `FlushScheduler` says;
/// - `session` (`StreamSession`): what a `/v1/stream` or `/v1/publish` peer
///   asked for: rate limit, control replies, subscriptions, resume, ingest;
/// - `deadlines` (`ConnectionDeadlines`): every timeout, as pure rules.
/// This class routes between them and the WebSocket state machine `ws`.
final class Connection: EventHandler {
    // Stored properties are laid out in declaration order: words first, then
    // the structs of 4-byte fields, then single bytes, so no padding is
    // spent between them. An idle connection is this object and its slots
    // in the loop's tables (`TickerBench s3` measures it).
    /// The worker owns its connections (its table, flush schedule and pacer
    /// hold them; nothing else does), so it outlives each of them:
    /// `unowned(unsafe)` reads the pointer without the runtime's unowned
    /// retain and release per use, which the flush pass does for every
    /// connection of every round.
    unowned(unsafe) let worker: LoopWorker
    /// Auth on: what the connection's token allows, or why it was refused.
    var access: ConnectionAccess?
    /// Every byte the connection has still to write, created on first need
    /// (a byte the socket did not take at once, or a subscription): an idle
    /// WebSocket (its 101 and welcome written straight to the socket,
    /// nothing subscribed) holds none, and the sweep drops it again once it
    /// is idle (`releaseIdleOutput`). S3 measures this.
    private var outboxStorage: Outbox?
    var outbox: Outbox {
        if let o = outboxStorage { return o }
        let o = Outbox(ownerIndex: index)
        outboxStorage = o
        return o
    }
    var existingOutbox: Outbox? { outboxStorage }
    /// The connection's side of the hub, from its first subscription.
    private var subscriberStorage: Subscriber?
    var subscriber: Subscriber {
        if let s = subscriberStorage { return s }
        let s = Subscriber(outbox: outbox, delta: wantsDelta)
        subscriberStorage = s
        return s
    }
    var existingSubscriber: Subscriber? { subscriberStorage }
    /// `?encoding=delta` on `/v1/stream` (and batched delivery): read by
    /// the subscriber when it is created.
    var wantsDelta = false
    /// True when bytes wait in the outbox (without creating one).
    var hasQueuedBytes: Bool { !(outboxStorage?.isEmpty ?? true) }
    var phase: Phase
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
    /// A peer that floods pings or control requests and never reads would
    /// grow our queue without end (ticks are conflated, replies are not): a
    /// reply queued past the per-connection cap marks it, and its next flush
    /// closes it with 1008, outside whatever hub operation queued the reply.
    var repliesPastCap = false

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
        case .finishing, .closed:
            // Bytes after a one-shot HTTP answer or a finished close handshake are ignored.
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

    /// The one way out of the hub: from `perform` once the WebSocket is no
    /// longer open, from `close()`, and when an idle subscriber is dropped.
    /// Safe to repeat.
    func leave() {
        if let s = subscriberStorage, s.hubIndex >= 0 {
            worker.hub.detach(s)
        }
    }

    /// Sweep: a subscriber with no subscription and no slots leaves the hub
    /// and is dropped, then an outbox with nothing queued or scheduled; each
    /// is recreated when needed again. An outbox kept keeps no spare chunk.
    func releaseIdleOutput() {
        if let s = subscriberStorage, s.isIdle {
            leave()
            subscriberStorage = nil
        }
        guard let o = outboxStorage, o.isEmpty, !o.isScheduled else { return }
        if subscriberStorage == nil && o.isIdle {
            outboxStorage = nil
        } else {
            o.queue.shrink()
        }
    }

    /// Closes with `code` ahead of everything queued: the frame being written
    /// finishes, the rest (stale ticks, conflation slots) is dropped, and the
    /// close frame is the next thing the peer reads.
    func closeNext(_ code: WebSocketCloseCode, reason: String) {
        if let s = subscriberStorage {
            worker.hub.discardBacklog(s)
        } else {
            outboxStorage?.discardBacklog()
        }
        // The kernel's unsent bytes are at their cap for a stalled reader;
        // lift it (0 = the system default) so the close frame fits in the
        // send buffer behind them and reaches the peer even after we close.
        if worker.policy.notSentLowWaterBytes > 0 { transport.setNotSentLowWater(bytes: 0) }
        startClose(code, reason: reason)
    }

    func close() {
        guard !isClosed else { return }
        if let route = webSocketRoute {
            if route == .publish { session.releaseIngestClaims(of: self) }
            worker.metrics.webSockets.wrappingSubtract(1, ordering: .relaxed)
        }
        if let grant { worker.shared.access?.release(subject: grant.subject) }
        access = nil
        phase = .closed
        leave()
        transport.close(on: worker.loop)
        outboxStorage?.removeAll()
        worker.forget(self)
    }
}
