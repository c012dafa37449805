import FanoutHub
import Foundation
import MarketData
import PosixIO
import WebSocketProtocol

/// What a `/v1/stream` or `/v1/publish` peer asked for and may do: the
/// inbound rate limit, control requests and their replies, subscriptions
/// and resume (through the loop's hub), ingest (through the ledger). It
/// speaks to its peer only through its connection (`send`, `startClose`)
/// and never touches the socket. A value held inline by the connection:
/// an idle WebSocket allocates nothing for it.
struct StreamSession {
    /// Control requests per second (`--max-messages-per-second`).
    var rate: TokenBucket

    init(maxMessagesPerSecond: Int) {
        rate = TokenBucket(perSecond: maxMessagesPerSecond)
    }

    /// A new `/v1/stream` client: welcome first, then the `?symbols=` subscription.
    /// Names are split on commas and trimmed; empty ones are skipped. A list that
    /// names nothing (`?symbols=`, `?symbols=,,,`) is the same as no parameter: no
    /// subscription and no reply, since there is no request to answer (an explicit
    /// JSON `subscribe` with an empty list is a `bad_request`).
    func openStream(query: String?, on c: Connection) {
        // The hub sees this connection from its first subscription on (`subscribe`).
        let worker = c.worker
        let config = worker.config
        let encoding = QueryString.value("encoding", in: query)
        let known = encoding == nil || encoding == "raw" || encoding == "delta"
        // One tick per message is raw for everyone (PROTOCOL.md, "Delta encoding").
        c.wantsDelta = encoding == "delta" && config.hub.delivery != .perTick
        sendReply(.welcome(WelcomeInfo(
            heartbeatMs: config.heartbeatIntervalMs,
            symbolCount: worker.shared.symbols.count,
            limits: ConnectionLimits(
                maxSymbolsPerConnection: config.overload.backlog.maxSymbolsPerConnection,
                maxMessagesPerSecond: config.overload.maxMessagesPerSecond,
                maxMessageBytes: config.maxInboundMessageBytes),
            epoch: worker.shared.broadcast.epoch, encoding: c.wantsDelta ? "delta" : "raw")), on: c)
        guard known else {
            sendError(ControlError(code: .badRequest, id: nil,
                                   message: "query parameter encoding must be delta or raw", symbols: nil), on: c)
            return
        }
        var intervalMs = 0
        if let text = QueryString.value("interval_ms", in: query) {
            guard let ms = Int(text), ControlRequest.isValidInterval(ms) else {
                sendError(ControlError(code: .badRequest, id: nil,
                                       message: "query parameter interval_ms must be \(ControlRequest.intervalRule)",
                                       symbols: nil), on: c)
                return
            }
            intervalMs = ms
        }
        if let list = QueryString.value("symbols", in: query) {
            let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if !names.isEmpty { subscribe(id: nil, names: names, intervalMs: intervalMs, on: c) }
        }
    }

    /// One message on `/v1/stream`; `admitted`: the rate limit let it through.
    func handleStreamMessage(_ message: WebSocketMessage, admitted: Bool, on c: Connection) {
        let worker = c.worker
        guard admitted else {
            if rate.isAbusive(factor: c.worker.policy.abusiveRefusalFactor) {
                c.startClose(.policyViolation, reason: "message rate far above the limit")
            } else {
                // Every refusal is answered, with the request's id, so a client can
                // tell which requests to retry. Reading the id is the bounded parse
                // (linear, at most the frame limit), and refusals end at the cutoff.
                let id: Int? = if case .text(let text) = message { ControlRequestDecoder.requestID(in: text) } else { nil }
                sendError(ControlError(code: .rateLimited, id: id,
                                       message: "over \(worker.policy.maxMessagesPerSecond) messages per second", symbols: nil),
                          on: c)
            }
            return
        }
        switch message {
        case .binary:
            sendError(ControlError(code: .unexpectedBinary, id: nil,
                                   message: "binary frames are not accepted on /v1/stream; send JSON text", symbols: nil),
                      on: c)
        case .text(let text):
            let request: ControlRequest
            do {
                request = try ControlRequestDecoder.decode(text)
            } catch {
                sendError(error, on: c)
                return
            }
            switch request {
            case .subscribe(let id, let symbols, let resume, let intervalMs):
                subscribe(id: id, names: symbols, resume: resume, intervalMs: intervalMs, on: c)
            case .unsubscribe(let id, let symbols):
                unsubscribe(id: id, names: symbols, on: c)
            case .list(let id):
                let table = worker.shared.symbols
                let subscriber = c.existingSubscriber
                var intervals: [String: Int] = [:]
                for (symbol, ms) in subscriber?.intervals ?? [:] { intervals[table[symbol].symbol] = ms }
                sendReply(.subscriptions(id: id, symbols: (subscriber?.symbols ?? []).map { table.ref($0) }, intervals: intervals), on: c)
            case .ping(let id):
                sendReply(.pong(id: id, timeNs: Clock.wallNanos()), on: c)
            case .auth(let id, let token):
                reauthorize(id: id, token: token, on: c)
            }
        }
    }

    private func subscribe(id: Int?, names: [String], resume: ResumeRequest? = nil, intervalMs: Int = 0, on c: Connection) {
        let worker = c.worker
        let refs: [SymbolRef]
        let from: [UInt32: UInt64]
        do {
            refs = try entitled(worker.shared.symbols.resolve(names, requestID: id), wildcard: names.contains(ControlRequest.wildcard),
                                grant: c.grant, id: id)
            from = try resumePoints(resume, refs: refs, id: id, shared: worker.shared)
        } catch {
            sendError(error, on: c)
            return
        }
        // A request answered after a protocol failure in the same read (see
        // `perform`): the connection already left the hub and is closing, so
        // it must not rejoin it (the hub would keep a subscriber that close()
        // no longer detaches).
        guard c.ws.state == .open else { return }
        let subscriber = c.subscriber
        if subscriber.hubIndex < 0 { worker.hub.attach(subscriber) }
        let outcome = worker.hub.subscribe(
            subscriber, to: refs.map(\.id), from: from, intervalMs: intervalMs, sendTimeNs: Clock.wallNanos()
        ) { outcome, resumed in
            // The acknowledgement goes out before the snapshot and replayed records.
            guard case .subscribed = outcome else { return }
            var report: ResumeReport?
            if resume != nil {
                // Symbols named in `from` but already subscribed are live: neither list.
                let table = worker.shared.symbols
                report = ResumeReport(resumed: resumed.resumed.map { table[$0].symbol },
                                      reset: resumed.reset.map { table[$0].symbol })
            }
            sendReply(.subscribed(id: id, symbols: refs, resume: report), on: c)
        }
        if case .limitExceeded(let limit) = outcome {
            sendError(ControlError(code: .limitExceeded, id: id,
                                   message: "at most \(limit) symbols per connection", symbols: nil),
                      on: c)
        }
        if intervalMs > 0 { worker.armIntervalTimers() }
        worker.metrics.subscriptions.store(worker.hub.subscriptionCount, ordering: .relaxed)
    }

    /// Auth on: `*` is every symbol the token allows; named symbols outside
    /// it refuse the whole request (`forbidden`, listing them), as unknown
    /// ones do. Snapshots and resume replay follow the subscription, so
    /// they never carry other symbols either.
    private func entitled(_ refs: [SymbolRef], wildcard: Bool, grant: AccessGrant?, id: Int?) throws(ControlError) -> [SymbolRef] {
        guard let grant, grant.symbols != nil else { return refs }
        if wildcard { return refs.filter { grant.allows($0.id) } }
        let outside = refs.filter { !grant.allows($0.id) }.map(\.symbol)
        guard outside.isEmpty else {
            let list = outside.prefix(5).joined(separator: ", ") + (outside.count > 5 ? ", …" : "")
            throw ControlError(code: .forbidden, id: id,
                               message: "\(outside.count) symbol\(outside.count == 1 ? "" : "s") outside your entitlement: \(list)",
                               symbols: outside)
        }
        return refs
    }

    /// `{"op":"auth"}`: a fresh token for the same subject replaces the
    /// grant (expiry, symbols, role); subscriptions it no longer allows end
    /// at once (`unsubscribed` with reason `entitlement`). A token for
    /// another subject, or an invalid one, changes nothing: the connection
    /// keeps its token until that one expires.
    private func reauthorize(id: Int?, token: String, on c: Connection) {
        let worker = c.worker
        guard let access = worker.shared.access, let grant = c.grant else {
            sendError(ControlError(code: .badRequest, id: id, message: "auth is not enabled on this server", symbols: nil), on: c)
            return
        }
        let fresh: AccessGrant
        switch c.checkToken((token, false), access: access, roles: [.subscribe, .admin], counted: false) {
        case .failure(let refusal):
            access.refused(refusal, client: c.clientText, path: "auth")
            let code: ControlErrorCode = refusal.status == 403 ? .forbidden : .invalidToken
            sendError(ControlError(code: code, id: id, message: refusal.description, symbols: nil), on: c)
            return
        case .success(let granted):
            fresh = granted
        }
        guard fresh.subject == grant.subject else {
            access.refused(AuthRefusal(status: 403, closeCode: 4403, reason: "subject", description: "another subject",
                                       subject: fresh.subject), client: c.clientText, path: "auth")
            sendError(ControlError(code: .forbidden, id: id,
                                   message: "the token is for another subject; this connection keeps its own token until it expires",
                                   symbols: nil), on: c)
            return
        }
        grant.renew(from: fresh)
        if let allowed = grant.symbols, let subscriber = c.existingSubscriber, subscriber.hubIndex >= 0 {
            let dropped = subscriber.symbols.filter { !allowed.contains($0) }
            if !dropped.isEmpty {
                let removed = worker.hub.unsubscribe(subscriber, from: dropped)
                let table = worker.shared.symbols
                sendReply(.unsubscribed(id: nil, symbols: removed.map { table.ref($0) }, reason: "entitlement"), on: c)
                worker.metrics.subscriptions.store(worker.hub.subscriptionCount, ordering: .relaxed)
            }
        }
        sendReply(.authenticated(id: id, expiresAt: fresh.expiresAt), on: c)
    }

    /// `from` as ids. Every key must be one of the symbols being subscribed
    /// (`bad_request` otherwise). A different `epoch` than ours means the
    /// sequences belong to another server process: every point becomes
    /// "after sequence 2^53 + 1", which no history can serve, so each is reset.
    private func resumePoints(
        _ resume: ResumeRequest?, refs: [SymbolRef], id: Int?, shared: ServerShared
    ) throws(ControlError) -> [UInt32: UInt64] {
        guard let resume else { return [:] }
        let table = shared.symbols
        let subscribing = Set(refs.map(\.id))
        let foreign = resume.epoch.map { $0 != shared.broadcast.epoch } ?? false
        var from: [UInt32: UInt64] = [:]
        for point in resume.points {
            guard SymbolTable.isValidSymbol(point.symbol), let symbolID = table.id(of: point.symbol),
                  subscribing.contains(symbolID) else {
                throw ControlError(
                    code: .badRequest, id: id,
                    message: "\"from\" names a symbol this request does not subscribe",
                    symbols: [point.symbol])
            }
            from[symbolID] = foreign ? .max : point.sequence
        }
        return from
    }

    /// `*` unsubscribes everything currently held.
    private func unsubscribe(id: Int?, names: [String], on c: Connection) {
        let worker = c.worker
        let ids: [UInt32]
        if names.contains(ControlRequest.wildcard) {
            ids = c.existingSubscriber?.symbols ?? []
        } else {
            do {
                ids = try worker.shared.symbols.resolve(names, requestID: id).map(\.id)
            } catch {
                sendError(error, on: c)
                return
            }
        }
        let removed = c.existingSubscriber.map { worker.hub.unsubscribe($0, from: ids) } ?? []
        let table = worker.shared.symbols
        sendReply(.unsubscribed(id: id, symbols: removed.map { table.ref($0) }), on: c)
        worker.metrics.subscriptions.store(worker.hub.subscriptionCount, ordering: .relaxed)
    }

    private func sendReply(_ reply: ControlReply, on c: Connection) {
        c.send(.text, Array(reply.encoded().utf8))
    }

    private func sendError(_ error: ControlError, on c: Connection) {
        c.worker.metrics.add(c.worker.metrics.controlErrors)
        sendReply(.error(error), on: c)
    }

    /// `/v1/publish`: each binary message is a tick batch in the wire format.
    /// The server owns stream integrity: the message is validated (fields,
    /// then ownership and sequences) and admitted whole, or refused whole
    /// with an error naming the first offending record; an admitted batch is
    /// encoded once and fanned out exactly like the simulated feed's.
    func handlePublishMessage(_ message: WebSocketMessage, on c: Connection) {
        guard case .binary(let bytes) = message else {
            rejectPublish(IngestRejection(.malformed, detail: "publish expects binary tick batches, not text"), on: c)
            return
        }
        // Per message: validate and admit (the ledger's lock, once). The
        // records then wait in the worker's per-read arrays, their bytes
        // copied as they came (no Tick -> bytes re-encoding), and every
        // message of this read leaves as one batch when the read is done
        // (`receiveFrames` -> `LoopWorker.publishIngest`).
        let worker = c.worker
        let owner = Self.ingestOwner(c)
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(IngestRejection) in
                let start = worker.ingestTicks.count
                _ = try IngestValidator.validate(raw, symbols: worker.shared.symbols, appendingTo: &worker.ingestTicks)
                if let grant = c.grant, let outside = worker.ingestTicks[start...].first(where: { !grant.allows($0.symbolId) }) {
                    worker.ingestTicks.removeSubrange(start...)
                    throw IngestRejection(.forbidden, symbolId: outside.symbolId,
                                          detail: "\(worker.shared.symbols[outside.symbolId].symbol) is outside your token's symbols")
                }
                do throws(IngestRejection) {
                    try worker.shared.ingest.admit(worker.ingestTicks[start...], from: owner)
                } catch {
                    worker.ingestTicks.removeSubrange(start...)
                    throw error
                }
                worker.ingestRecords.append(contentsOf: raw[TickWire.headerSize...])
            }
        }
        if case .failure(let rejection) = result { rejectPublish(rejection, on: c) }
    }

    /// The connection's identity in the ingest ledger: its descriptor, unique
    /// among open connections and released (in `close()`) before it is closed.
    private static func ingestOwner(_ c: Connection) -> IngestLedger.Owner { Int(c.descriptor.rawValue) }

    private func rejectPublish(_ rejection: IngestRejection, on c: Connection) {
        c.worker.metrics.ingestRejected.withLock { $0[rejection.reason, default: 0] += 1 }
        Log.debug("\(c.descriptor): publish refused: \(rejection)", ["client": c.clientText])
        sendError(rejection.controlError(symbols: c.worker.shared.symbols), on: c)
    }

    /// Frees the symbols a publisher held. Called from `close()` of a
    /// `/v1/publish` connection, before its descriptor is closed.
    func releaseIngestClaims(of c: Connection) {
        // Whatever this connection admitted goes out before its claims end.
        c.worker.publishIngest()
        c.worker.shared.ingest.release(owner: Self.ingestOwner(c))
    }
}

extension SymbolTable {
    fileprivate func ref(_ id: UInt32) -> SymbolRef { SymbolRef(symbol: self[id].symbol, id: id) }
}
