import Dashboard
import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

extension Connection {
    /// Answers one request: a WebSocket upgrade on the stream, echo and
    /// publish paths, or a one-shot GET on the plain routes.
    ///
    /// HEAD is GET without the body (RFC 9110 §9.3.2): the same route, status and
    /// headers, `Content-Length` included. It never switches protocols: on a
    /// WebSocket path it gets the refusal a GET with the same headers would get,
    /// or 400 where that GET would have been upgraded.
    func route(_ head: HTTPRequestHead, leftover: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        let headOnly = head.method == "HEAD"
        guard head.method == "GET" || headOnly else {
            send(response: Self.textResponse(status: 405, text: "only GET and HEAD are supported",
                                              extraHeaders: [("Allow", "GET, HEAD")]))
            return
        }
        if let why = worker.shuttingDown ? .draining : refusal, !Probes.isProbe(head.path) {
            refuse(why, includeBody: !headOnly)
            return
        }
        switch answer(head) {
        case .response(let response):
            send(response: response, includeBody: !headOnly)
        case .upgrade where !headOnly && !admitForwardedClient(head):
            refuse(.perAddress, includeBody: true)
        case .upgrade(let route) where !headOnly:
            switch WebSocketHandshake.validate(head, allowedOrigins: worker.config.allowedOrigins) {
            case .failure(let rejection):
                send(response: rejection.response)
            case .success where !admitUpgrade(head, route: route):
                return
            case .success(let accept) where worker.shouldParkUpgrade():
                guard case .request(let pending) = phase else { return }
                phase = .parked(ParkedUpgrade(
                    accept: accept, query: head.query, route: route,
                    acceptedAt: pending.acceptedAt, leftover: Array(leftover)))
                try? transport.silence(on: worker.loop)
                worker.park(self)
            case .success(let accept):
                upgrade(accept: accept, query: head.query, to: route)
            }
        case .upgrade:
            var asGet = head
            asGet.method = "GET"
            switch WebSocketHandshake.serverResponse(to: asGet, allowedOrigins: worker.config.allowedOrigins) {
            case .failure(let rejection):
                send(response: rejection.response, includeBody: false)
            case .success:
                send(response: Self.textResponse(status: 400, text: "WebSocket upgrade requires GET"), includeBody: false)
            }
        }
    }

    /// A refusal the client may retry (`Retry-After`), counted by reason.
    private func refuse(_ why: Refusal, includeBody: Bool) {
        let config = worker.config
        let (status, reason, text): (Int, String, String)
        switch why {
        case .capacity:
            worker.metrics.add(worker.metrics.rejectedOverCapacity)
            (status, reason, text) = (503, "capacity", "server at capacity (\(config.overload.maxConnections) connections); retry shortly")
        case .perAddress:
            (status, reason, text) = (429, "per_address",
                                      "too many connections from your address (limit \(config.overload.maxConnectionsPerAddress))")
        case .draining:
            (status, reason, text) = (503, "shutting_down", "server shutting down; connect to another node or retry shortly")
        }
        worker.metrics.overload.countRejected(reason)
        send(response: Self.textResponse(status: status, text: text, extraHeaders: [("Retry-After", "1")]), includeBody: includeBody)
    }

    private enum Answer {
        case response(HTTPResponse)
        case upgrade(Route)
    }

    /// What a GET of this path gets, before any body or upgrade is written.
    private func answer(_ head: HTTPRequestHead) -> Answer {
        let config = worker.config
        switch head.path {
        case "/v1/stream":
            return .upgrade(.stream)
        case "/echo" where config.enableEcho:
            return .upgrade(.echo)
        case "/v1/publish":
            guard config.publishToken != nil || (worker.shared.access != nil && config.acceptsIngest) else {
                // The text of before auth existed: a gateway, or a node with neither option.
                return .response(Self.textResponse(
                    status: 404, text: "ingest is disabled (start the server with --publish-token)"))
            }
            // With auth on, a `publish` token also opens it (checked at the upgrade).
            if worker.shared.access == nil, let expected = config.publishToken, !publishTokenMatches(head, expected: expected) {
                return .response(Self.textResponse(
                    status: 401, text: "missing or wrong publish token", extraHeaders: [("WWW-Authenticate", "Bearer")]))
            }
            return .upgrade(.publish)
        case "/v1/symbols":
            return .response(Self.response(status: 200, contentType: "application/json", body: worker.shared.symbolsJSON))
        default:
            // `/metrics` on the main port needs an admin token when auth is on.
            if head.path == "/metrics", let refusal = metricsRefusal(head) { return .response(refusal) }
            if let probe = Probes.response(path: head.path, shared: worker.shared) { return .response(probe) }
            if let asset = DashboardAssets.response(path: head.path, ifNoneMatch: head.headers(named: "If-None-Match")) {
                return .response(asset)
            }
            return .response(Self.textResponse(status: 404, text: "no such path"))
        }
    }

    /// Behind a trusted proxy (`--trusted-proxies`) the per-address limit,
    /// not checked at accept, applies at the upgrade to the client the proxy
    /// names (or to the proxy itself when it names none). False: over the limit.
    private func admitForwardedClient(_ head: HTTPRequestHead) -> Bool {
        let trust = worker.config.trustedProxies
        guard !trust.isEmpty, peer == nil, refusal == nil,
              let proxy = Syscall.peerAddress(descriptor).map(IPAddress.bytes(key:)), trust.trusts(proxy) else { return true }
        let client = trust.forwardedClient(forwardedFor: head.headers(named: "X-Forwarded-For"), realIP: head.header("X-Real-IP")) ?? proxy
        let key = IPAddress.key(client)
        guard worker.shared.admission.admit(address: key) else { return false }
        peer = key
        return true
    }

    /// The client's address for logs: the peer, or the client a trusted proxy named.
    var clientText: String { peer.map { IPAddress.text(IPAddress.bytes(key: $0)) } ?? "-" }

    func publishTokenMatches(_ head: HTTPRequestHead, expected: String) -> Bool {
        guard let given = Self.presentedToken(head)?.token else { return false }
        // Constant-time over the expected length: the comparison time says nothing about the token.
        let a = Array(given.utf8), b = Array(expected.utf8)
        var diff = a.count ^ b.count
        for i in 0..<b.count { diff |= Int((i < a.count ? a[i] : 0) ^ b[i]) }
        return diff == 0
    }

    /// The token of `Authorization: Bearer TOKEN`. The scheme name is case-insensitive
    /// (RFC 9110 §11.1: `bearer` and `BEARER` are the same scheme), compared as ASCII so
    /// no Unicode case folding can make a lookalike match; one or more spaces may follow it.
    static func bearerToken(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        guard let space = bytes.firstIndex(of: UInt8(ascii: " ")) else { return nil }
        let scheme = bytes[..<space]
        guard scheme.count == 6, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let token = bytes[space...].drop { $0 == UInt8(ascii: " ") }
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }

    /// Performs the parked upgrade (its turn came), then the frames that
    /// arrived behind it.
    func resumeParkedUpgrade() {
        guard case .parked(let p) = phase else { return }
        upgrade(accept: p.accept, query: p.query, to: p.route)
        if case .webSocket = phase, !p.leftover.isEmpty {
            p.leftover.withUnsafeBytes { receiveFrames($0) }
        }
    }

    /// Answers a validated upgrade (`accept` from `WebSocketHandshake.validate`).
    private func upgrade(accept: String, query: String?, to route: Route) {
        worker.metrics.countResponse(status: 101)
        enqueue(WebSocketHandshake.switchingProtocols(accept: accept).serialize())
        ws = WebSocketConnection(role: .server, limits: route.limits(worker.config))
        phase = .webSocket(route, closeQueued: false)
        leavePrioritySet()
        worker.metrics.webSockets.wrappingAdd(1, ordering: .relaxed)
        deadlines.upgraded(at: Clock.now(), rules: worker.deadlineRules)
        if route == .stream {
            if case .refused(let refusal) = access {
                closeRefusedStream(refusal)
            } else {
                session.openStream(query: query, on: self)
            }
        }
        flush()
    }

    func respond(status: Int, text: String, extraHeaders: [(String, String)] = []) {
        send(response: Self.textResponse(status: status, text: text, extraHeaders: extraHeaders))
    }

    func respond(status: Int, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = []) {
        send(response: Self.response(status: status, contentType: contentType, body: body, extraHeaders: extraHeaders))
    }

    /// `response` with `Connection: close` unless it names a connection option already.
    static func closing(_ response: HTTPResponse) -> HTTPResponse {
        var response = response
        if !response.headers.contains(where: { $0.0.lowercased() == "connection" }) {
            response.headers.append(("Connection", "close"))
        }
        return response
    }

    static func textResponse(status: Int, text: String, extraHeaders: [(String, String)] = []) -> HTTPResponse {
        response(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8),
                 extraHeaders: extraHeaders)
    }

    static func response(status: Int, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = []) -> HTTPResponse {
        var headers: [(String, String)] = [("Content-Type", contentType), ("Cache-Control", "no-store")]
        headers += extraHeaders
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// Queues a complete HTTP answer and closes the connection once written;
    /// `includeBody: false` for HEAD.
    func send(response: HTTPResponse, includeBody: Bool = true) {
        let response = Self.closing(response)
        worker.metrics.countResponse(status: response.status)
        enqueue(response.serialize(includeBody: includeBody))
        phase = .finishing(nil)
        flush()
    }
}
