import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// One `AsyncTickerClient`'s connection life on the I/O thread: connect,
/// upgrade, resubscribe with `from`, read, and on any loss schedule the next
/// attempt. Loop-confined.
final class ClientSession: EventHandler {
    enum Phase {
        /// Not connected; connect at `at` (monotonic ns).
        case waiting(at: UInt64)
        case connecting(deadline: UInt64)
        case handshaking(deadline: UInt64, parser: HTTPResponseParser, key: String)
        case open
        case finished
    }

    let id: Int
    let configuration: AsyncTickerClient.Configuration
    let state: ClientLoopState
    let continuation: AsyncThrowingStream<TickerEvent, any Error>.Continuation
    var phase: Phase
    var schedule: ReconnectSchedule<SystemRandomNumberGenerator>
    var book: ResumeBook
    var fd: Int32 = -1
    var token = EventToken.none
    var ws = WebSocketConnection(role: .client)
    var outbox: [UInt8] = []
    /// `wss://`: the TLS layer between the socket and the WebSocket bytes,
    /// and what was written before its handshake completed.
    var channel: (any SecureChannel)?
    var beforeTLS: [UInt8] = []
    private var actions: [WebSocketAction] = []
    var welcomed = false
    /// Both encodings; delta state lives for one connection.
    var decoder = TickStreamDecoder()
    /// The current connection's subscription was acknowledged: losing it is
    /// a lost session (retry the same URL soon), not a failed attempt.
    var established = false
    var sessions = 0
    private var lastHeard: UInt64 = 0
    private var idleLimitNanos: UInt64
    var requestID = 0
    /// Set by `pause(for:)`: no reconnect before this.
    private var notBefore: UInt64 = 0
    /// Auth: the token for the next attempt, fetched by `credential`.
    var presentedToken: String?
    /// A provider's token fetched for the next attempt, not used yet.
    var freshToken: String?
    /// A `.provider` call under way (for an attempt or a refresh), and
    /// the count of calls made, which tells a stale answer from the latest.
    var tokenFetch: TokenFetch?
    var tokenGeneration = 0

    init(id: Int, configuration: AsyncTickerClient.Configuration, state: ClientLoopState,
         continuation: AsyncThrowingStream<TickerEvent, any Error>.Continuation) {
        self.id = id
        self.configuration = configuration
        self.state = state
        self.continuation = continuation
        schedule = ReconnectSchedule(urls: configuration.urls, backoff: configuration.backoff,
                                     random: SystemRandomNumberGenerator())
        book = ResumeBook(symbols: configuration.symbols, from: configuration.from, intervalMs: configuration.intervalMs)
        phase = .waiting(at: 0)
        idleLimitNanos = configuration.idleTimeoutNanos ?? 40_000_000_000
    }

    // MARK: commands (from the public API, on the I/O thread)

    func start() { connect(now: Clock.monotonicNanos()) }

    func subscribe(_ symbols: [String], intervalMs: Int) {
        requestID += 1
        let request = book.subscribe(symbols, id: requestID, intervalMs: intervalMs)
        if welcomed { sendText(request.encoded()) }
    }

    func unsubscribe(_ symbols: [String]) {
        book.unsubscribe(symbols)
        requestID += 1
        if welcomed { sendText(ControlRequest.unsubscribe(id: requestID, symbols: symbols).encoded()) }
    }

    /// Ends the session for good: a close frame if open, then the stream finishes.
    func close() {
        if case .finished = phase { return }
        if case .open = phase {
            actions.removeAll(keepingCapacity: true)
            ws.close(code: .normal, into: &actions)
            for case .send(let bytes) in actions { write(bytes) }
        }
        dropSocket()
        phase = .finished
        state.sessions[id] = nil
        continuation.finish()
    }

    /// Fault injection for tests and demos: drops the TCP connection now, as
    /// a network change would, and stays away at least `nanos`.
    func pause(for nanos: UInt64) {
        guard case .open = phase else { return }
        notBefore = Clock.monotonicNanos() &+ nanos
        lost("dropped by the client for \(nanos / 1_000_000) ms")
    }

    // MARK: connection life

    func connect(now: UInt64) {
        guard tokenReady(now: now) else { return }
        let url = schedule.currentURL
        welcomed = false
        established = false
        decoder.reset()
        ws = WebSocketConnection(role: .client)
        outbox.removeAll()
        channel = nil
        beforeTLS.removeAll()
        if url.isSecure {
            // A configuration error, not a network one: no retry helps.
            guard let security = configuration.security else {
                scheduleNext(reason: TickerClientError.needsTLS(url).description, error: .needsTLS(url), at: nil, now: now)
                return
            }
            do {
                channel = try security.makeChannel(host: url.host)
            } catch {
                scheduleNext(reason: error.message, error: .tls(host: url.host, port: url.port, error), at: nil, now: now)
                return
            }
        }
        do {
            fd = try Syscall.connect(host: url.host, port: url.port)
            token = try state.loop.register(fd: fd, events: EpollEvents.writable | EpollEvents.readHangUp, handler: self)
        } catch {
            if fd >= 0 { Syscall.close(fd); fd = -1 }
            failed(.connect(host: url.host, port: url.port, error))
            return
        }
        phase = .connecting(deadline: now &+ configuration.connectTimeoutNanos)
    }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        switch phase {
        case .connecting:
            if let error = Syscall.socketError(fd) {
                failed(.connect(host: schedule.currentURL.host, port: schedule.currentURL.port, error))
                return
            }
            Syscall.setNoDelay(fd)
            let url = schedule.currentURL
            let request = WebSocketHandshake.clientRequest(host: url.hostHeader, path: url.with(encoding: configuration.encoding).target,
                                                           extraHeaders: authorizationHeader())
            phase = .handshaking(deadline: Clock.monotonicNanos() &+ configuration.connectTimeoutNanos,
                                 parser: HTTPResponseParser(), key: request.key)
            try? loop.modify(fd: fd, token: token, events: EpollEvents.readable | EpollEvents.readHangUp)
            if let channel {
                do {
                    try channel.start(network: &outbox)
                } catch {
                    tlsFailed(error)
                    return
                }
                flush()
            }
            write(request.bytes)
        case .handshaking, .open:
            if events & EpollEvents.writable != 0 { flush() }
            if events & (EpollEvents.readable | EpollEvents.readHangUp | EpollEvents.hangUp | EpollEvents.error) != 0 {
                readAll()
            }
        case .waiting, .finished:
            break
        }
    }

    private func readAll() {
        let buffer = state.readBuffer
        while fd >= 0 {
            let result: IOResult
            do {
                result = try Syscall.read(fd, into: buffer)
            } catch {
                // After the server's close frame, our reply can meet its
                // closed socket and draw a reset: the stream still ended
                // with the code the server sent.
                if case .open = phase, ws.state != .open {
                    endOfStream()
                } else {
                    lost("read failed: \(error.reason)")
                }
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                endOfStream()
                return
            case .processed(let n):
                lastHeard = Clock.monotonicNanos()
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                if channel != nil { decrypt(bytes) } else { absorb(bytes) }
            }
        }
    }

    func endOfStream() {
        if case .open = phase {
            actions.removeAll(keepingCapacity: true)
            ws.receiveEOF(into: &actions)
            var code: WebSocketCloseCode?
            for case .closeTransport(let c) in actions { code = c }
            if let code, closedForAuth(code) { return }
            lost("the server closed the connection" + (code.map { " (code \($0.rawValue))" } ?? ""))
        } else if let channel, !channel.isEstablished {
            tlsFailed(SecureChannelError("the server closed the connection during the TLS handshake"))
        } else {
            failed(.handshake("the server closed the connection before answering"))
        }
    }

    func absorb(_ bytes: UnsafeRawBufferPointer) {
        if case .handshaking(let deadline, var parser, let key) = phase {
            switch parser.append(bytes) {
            case .needMore:
                phase = .handshaking(deadline: deadline, parser: parser, key: key)
                return
            case .failed(let error):
                failed(.handshake("the answer is not HTTP (\(error.reason))"))
                return
            case .complete(let head, let consumed):
                do throws(WebSocketClientHandshakeError) {
                    try WebSocketHandshake.validateServerResponse(head, key: key)
                } catch {
                    if case .unexpectedStatus(let status) = error {
                        let detail = TickerClient.firstLine(ArraySlice(bytes[min(consumed, bytes.count)...]))
                        failed(.rejected(status: status, reason: head.reason, detail: detail))
                    } else {
                        failed(.handshake(TickerClient.explain(error)))
                    }
                    return
                }
                phase = .open
                if consumed < bytes.count { absorb(UnsafeRawBufferPointer(rebasing: bytes[consumed...])) }
                return
            }
        }
        guard case .open = phase else { return }
        actions.removeAll(keepingCapacity: true)
        ws.receive(bytes, into: &actions)
        let batch = actions
        for action in batch {
            guard case .open = phase else { return }
            switch action {
            case .deliver(.text(let text)):
                guard let reply = try? ControlReplyDecoder.decode(text) else { continue }
                handle(reply)
            case .deliver(.binary(let payload)):
                guard deliver(payload) else { return }
            case .send(let bytes):
                write(bytes)
            case .closeTransport(let code):
                if let code, closedForAuth(code) { return }
                lost("the server closed the connection" + (code.map { " (code \($0.rawValue))" } ?? ""))
            case .pongReceived, .startCloseTimer:
                break
            }
        }
    }

    private func handle(_ reply: ControlReply) {
        switch reply {
        case .welcome(let info):
            welcomed = true
            // Two heartbeats without a byte: the path is dead (a half-open
            // TCP connection never says so by itself).
            if configuration.idleTimeoutNanos == nil {
                idleLimitNanos = UInt64(max(1_000, info.heartbeatMs)) * 2_000_000 + 5_000_000_000
            }
            book.connectionOpened(epoch: info.epoch)
            continuation.yield(.connected(url: schedule.currentURL, reconnect: sessions > 0))
            sessions += 1
            resubscribe()
        case .subscribed(_, let refs, let report):
            if !established {
                established = true
                schedule.sessionEstablished()
            }
            for event in book.subscribed(refs, report: report) { continuation.yield(event) }
        case .error(let error):
            continuation.yield(.error(error))
            refused(error)
        case .tokenExpiring:
            refreshToken()
        case .unsubscribed(_, let refs, let reason?):
            let names = refs.map(\.symbol)
            book.unsubscribe(names)
            continuation.yield(.unsubscribed(symbols: names, reason: reason))
        case .unsubscribed, .subscriptions, .pong, .authenticated:
            break
        }
    }

    /// Asks again for everything in the book (with `from` and the epoch);
    /// with nothing to ask for, the session is established at once.
    func resubscribe() {
        let requests = book.resubscribeRequests(firstID: requestID + 1)
        requestID += max(1, requests.count)
        if !requests.isEmpty {
            for request in requests { sendText(request.encoded()) }
        } else {
            established = true
            schedule.sessionEstablished()
        }
    }

    func checkDeadlines(now: UInt64) {
        switch phase {
        case .waiting(let at):
            if now >= at && now >= notBefore { connect(now: now) }
            checkTokenFetch(now: now)
        case .connecting(let deadline), .handshaking(let deadline, _, _):
            if now >= deadline { failed(.timeout("connecting to \(schedule.currentURL)")) }
        case .open:
            if now &- lastHeard > idleLimitNanos {
                lost("nothing heard from the server for \(idleLimitNanos / 1_000_000_000) s")
            }
        case .finished:
            break
        }
    }

    /// An attempt that never got as far as a subscription.
    func failed(_ error: TickerClientError) {
        if established {
            lost(error.description)
            return
        }
        dropSocket()
        let now = Clock.monotonicNanos()
        // Without a first session, `failFast` ends here: a command-line user
        // wants "connection refused" at once, not a silent retry loop.
        let retry = configuration.reconnect && !(configuration.failFast && sessions == 0) && !isFinalAuthRefusal(error)
        scheduleNext(reason: error.description, error: error, at: retry ? schedule.attemptFailed(now: now) : nil, now: now)
    }

    /// A session that was up ended.
    func lost(_ reason: String) {
        guard established else {
            failed(.handshake(reason))
            return
        }
        established = false
        dropSocket()
        let now = Clock.monotonicNanos()
        scheduleNext(reason: reason, at: configuration.reconnect ? schedule.sessionLost(now: now) : nil, now: now)
    }

    func scheduleNext(reason: String, error: TickerClientError? = nil, at: UInt64?, now: UInt64) {
        welcomed = false
        guard let at else {
            // Never connected: the stream's error says it all.
            if sessions > 0 { continuation.yield(.disconnected(reason: reason, retryInNanos: nil)) }
            phase = .finished
            state.sessions[id] = nil
            if sessions == 0 {
                continuation.finish(throwing: error ?? TickerClientError.handshake(reason))
            } else {
                continuation.finish()
            }
            return
        }
        let due = max(at, notBefore)
        continuation.yield(.disconnected(reason: reason, retryInNanos: due &- now))
        phase = .waiting(at: due)
    }

    func dropSocket() {
        channel = nil
        beforeTLS.removeAll()
        guard fd >= 0 else { return }
        state.loop.unregister(fd: fd, token: token)
        Syscall.close(fd)
        fd = -1
        token = .none
        outbox.removeAll()
    }

}
