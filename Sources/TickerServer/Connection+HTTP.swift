import MarketData
import PosixIO
import WebSocketProtocol

extension Connection {
    /// Answers one request: a WebSocket upgrade on the stream, echo and
    /// publish paths, or a one-shot GET on the plain routes.
    func route(_ head: HTTPRequestHead) {
        let config = worker.config
        guard head.method == "GET" else {
            respond(status: 405, text: "only GET is supported", extraHeaders: [("Allow", "GET")])
            return
        }
        if let refusal, head.path != "/healthz" && head.path != "/metrics" {
            switch refusal {
            case .capacity:
                worker.metrics.add(worker.metrics.rejectedOverCapacity)
                worker.metrics.overload.countRejected("capacity")
                respond(status: 503, text: "server at capacity (\(config.maxConnections) connections); retry shortly",
                        extraHeaders: [("Retry-After", "1")])
            case .perAddress:
                worker.metrics.overload.countRejected("per_address")
                respond(status: 429, text: "too many connections from your address (limit \(config.maxConnectionsPerAddress))",
                        extraHeaders: [("Retry-After", "1")])
            }
            return
        }
        switch head.path {
        case "/v1/stream":
            upgrade(head, to: .stream, limits: WebSocketLimits(
                maxFrameSize: config.maxInboundMessageBytes, maxMessageSize: config.maxInboundMessageBytes,
                maxFragments: 64))
        case "/echo" where config.enableEcho:
            upgrade(head, to: .echo, limits: .echoConformance)
        case "/v1/publish":
            guard let expected = config.publishToken else {
                respond(status: 404, text: "ingest is disabled (start the server with --publish-token)")
                return
            }
            guard publishTokenMatches(head, expected: expected) else {
                respond(status: 401, text: "missing or wrong publish token",
                        extraHeaders: [("WWW-Authenticate", "Bearer")])
                return
            }
            upgrade(head, to: .publish, limits: WebSocketLimits(
                maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxFragments: 1024))
        case "/healthz":
            if let reason = worker.shared.degradedReason() {
                respond(status: 503, text: "degraded: \(reason)")
            } else {
                respond(status: 200, text: "ok")
            }
        case "/v1/symbols":
            respond(status: 200, contentType: "application/json", body: worker.shared.symbolsJSON)
        case "/metrics":
            respond(status: 200, contentType: "text/plain; version=0.0.4",
                    body: Array(worker.shared.renderMetrics().utf8))
        case "/", "/index.html":
            respond(status: 200, contentType: "text/html; charset=utf-8", body: DashboardPage.bytes)
        default:
            respond(status: 404, text: "no such path")
        }
    }

    private func publishTokenMatches(_ head: HTTPRequestHead, expected: String) -> Bool {
        let given: String?
        if let auth = head.header("Authorization"), auth.hasPrefix("Bearer ") {
            given = String(auth.dropFirst("Bearer ".count))
        } else {
            given = QueryString.value("token", in: head.query)
        }
        guard let given else { return false }
        // Constant-time over the expected length: the comparison time says nothing about the token.
        let a = Array(given.utf8), b = Array(expected.utf8)
        var diff = a.count ^ b.count
        for i in 0..<b.count { diff |= Int((i < a.count ? a[i] : 0) ^ b[i]) }
        return diff == 0
    }

    private func upgrade(_ head: HTTPRequestHead, to route: Route, limits: WebSocketLimits) {
        switch WebSocketHandshake.serverResponse(to: head, allowedOrigins: worker.config.allowedOrigins) {
        case .failure(let rejection):
            send(response: rejection.response)
        case .success(let response):
            worker.metrics.countResponse(status: 101)
            enqueue(response.serialize())
            ws = WebSocketConnection(role: .server, limits: limits)
            phase = .webSocket(route)
            worker.metrics.webSockets.wrappingAdd(1, ordering: .relaxed)
            let config = worker.config
            nextPingAt = Clock.monotonicNanos() + UInt64(config.heartbeatIntervalMs) * 1_000_000
            if route == .stream { openStream(query: head.query) }
            flush()
        }
    }

    func respond(status: Int, text: String, extraHeaders: [(String, String)] = []) {
        respond(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8),
                extraHeaders: extraHeaders)
    }

    func respond(status: Int, contentType: String, body: [UInt8], extraHeaders: [(String, String)] = []) {
        var headers: [(String, String)] = [("Content-Type", contentType), ("Cache-Control", "no-store")]
        headers += extraHeaders
        send(response: HTTPResponse(status: status, headers: headers, body: body))
    }

    /// Queues a complete HTTP answer and closes the connection once written.
    func send(response: HTTPResponse) {
        var response = response
        if !response.headers.contains(where: { $0.0.lowercased() == "connection" }) {
            response.headers.append(("Connection", "close"))
        }
        worker.metrics.countResponse(status: response.status)
        enqueue(response.serialize())
        phase = .responding
        closeWhenFlushed = true
        flush()
    }
}
