import HTTP
import MarketData
import PosixIO
import WebSocketProtocol

/// Why the client stopped. Each description is one sentence a command-line
/// user can act on (`ticker tap` prints it as is).
public enum TickerClientError: Error, CustomStringConvertible {
    case badURL(String)
    case connect(host: String, port: UInt16, SystemError)
    case timeout(String)
    /// The server answered the upgrade with another status (e.g. 404 for a wrong
    /// path); `detail` is the first line of its text body, when it sent one.
    case rejected(status: Int, reason: String, detail: String?)
    case handshake(String)
    case closed
    /// A `wss://` URL without a TLS layer (`Configuration.security`).
    case needsTLS(TickerURL)
    /// TLS with the server failed (certificate, host name, protocol).
    case tls(host: String, port: UInt16, SecureChannelError)
    /// Auth: the server closed with 4401 (token missing, invalid, expired
    /// or revoked) or 4403 (role), and retrying the same token cannot help.
    case unauthorized(code: UInt16)
    /// Auth: the configured token provider threw.
    case tokenProvider(String)

    public var description: String {
        switch self {
        case .badURL(let url): "'\(url)' is not a ws:// or wss://HOST:PORT/PATH URL"
        case .needsTLS(let url):
            "\(url) needs TLS: set the configuration's security to TLSSecurity() from the TickerClientTLS product"
                + " (the blocking TickerClient speaks ws:// only)"
        case .tls(let host, let port, let error): "TLS with \(host) port \(port) failed: \(error.message)"
        case .unauthorized(let code) where code == 4403:
            "the server closed the connection with 4403: the token's role may not read the stream"
        case .unauthorized(let code):
            "the server closed the connection with \(code): the token is missing, invalid, expired or revoked; get a new one"
        case .tokenProvider(let why): "the token provider failed: \(why)"
        case .connect(let host, let port, let error): "cannot connect to \(host) port \(port): \(error.reason)"
        case .timeout(let what): "timed out \(what)"
        case .rejected(let status, let reason, let detail):
            "the server refused the WebSocket upgrade with \(status)\(reason.isEmpty ? "" : " \(reason)")"
                + (detail.map { " (\($0))" } ?? "")
                + (status == 404 ? "; check the path in the URL (the stream is /v1/stream)" : "")
        case .handshake(let why): "WebSocket handshake failed: \(why)"
        case .closed: "the server closed the connection"
        }
    }
}

/// What the server said.
public enum ClientEvent: Sendable {
    case control(ControlReply)
    /// One binary message: its send time and decoded records.
    case ticks(sendTimeNs: UInt64, [Tick])
    /// A text frame that is not a control reply we know (kept, not dropped).
    case unknownText(String)
    /// A delta message that could not be decoded; the connection is then
    /// closed (`.closed` follows): its later deltas cannot be trusted.
    case decodeError(TickDeltaError)
    case closed(code: WebSocketCloseCode?)
}

/// A blocking, single-connection client of `/v1/stream`: connect, subscribe,
/// read decoded events. Used by `ticker tap`, tests and small programs. It
/// answers pings itself and tracks sequence gaps in `tracker`.
public final class TickerClient {
    public let url: TickerURL
    private let fd: Int32
    private var ws = WebSocketConnection(role: .client)
    private var pending: [ClientEvent] = []
    private var pendingIndex = 0
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var actions: [WebSocketAction] = []
    public private(set) var isClosed = false
    public var tracker = SequenceTracker()
    /// Reads both encodings: the URL's `?encoding=` decides what the server
    /// sends (this client adds none: raw unless asked).
    private var decoder = TickStreamDecoder()
    /// Bytes of the binary frames received (frame headers included): what
    /// the market data cost on the wire, for measurements.
    public private(set) var binaryFrameBytes = 0
    /// Keep every binary message's payload (for tests that hand a stream to
    /// another decoder); `takeBinaryMessages` empties them.
    public var keepsBinaryMessages = false
    private var keptMessages: [[UInt8]] = []

    public func takeBinaryMessages() -> [[UInt8]] {
        defer { keptMessages = [] }
        return keptMessages
    }

    /// Connects and completes the upgrade within `timeoutMs`.
    public init(url: TickerURL, timeoutMs: Int32 = 5_000, extraHeaders: [(String, String)] = []) throws {
        self.url = url
        guard !url.isSecure else { throw TickerClientError.needsTLS(url) }
        Syscall.ignoreSIGPIPE()
        do {
            fd = try Syscall.connect(host: url.host, port: url.port)
        } catch {
            throw TickerClientError.connect(host: url.host, port: url.port, error)
        }
        do {
            guard try Syscall.poll(fd, for: .write, timeoutMs: timeoutMs) else {
                throw TickerClientError.timeout("connecting to \(url.host):\(url.port)")
            }
            if let error = Syscall.socketError(fd) { throw TickerClientError.connect(host: url.host, port: url.port, error) }
            Syscall.setNoDelay(fd)
            try handshake(timeoutMs: timeoutMs, extraHeaders: extraHeaders)
        } catch {
            // Fully initialized, so deinit still runs after the throw: mark
            // the descriptor closed, or deinit would close it a second time,
            // by then perhaps another thread's new socket or epoll set.
            shutdownSocket()
            throw error
        }
    }

    public convenience init(url string: String, timeoutMs: Int32 = 5_000) throws {
        guard let url = TickerURL(string: string) else { throw TickerClientError.badURL(string) }
        try self.init(url: url, timeoutMs: timeoutMs)
    }

    deinit {
        if !isClosed { Syscall.close(fd) }
    }

    private func handshake(timeoutMs: Int32, extraHeaders: [(String, String)]) throws {
        let request = WebSocketHandshake.clientRequest(host: url.hostHeader, path: url.target, extraHeaders: extraHeaders)
        try writeAll(request.bytes, timeoutMs: timeoutMs)
        var parser = HTTPResponseParser()
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        while true {
            let n = try readSome(until: deadline, what: "waiting for the 101 response")
            let result = buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            switch result {
            case .needMore:
                continue
            case .failed(let error):
                throw TickerClientError.handshake("the answer is not HTTP (\(error.reason))")
            case .complete(let head, let consumed):
                do throws(WebSocketClientHandshakeError) {
                    try WebSocketHandshake.validateServerResponse(head, key: request.key)
                } catch {
                    if case .unexpectedStatus(let status) = error {
                        let detail = Self.firstLine(buffer[min(consumed, n)..<n])
                        throw TickerClientError.rejected(status: status, reason: head.reason, detail: detail)
                    }
                    throw TickerClientError.handshake(Self.explain(error))
                }
                if consumed < n {
                    let rest = Array(buffer[consumed..<n])
                    rest.withUnsafeBytes { absorb($0) }
                }
                return
            }
        }
    }

    static func explain(_ error: WebSocketClientHandshakeError) -> String {
        switch error {
        case .unexpectedStatus(let status): "the server answered \(status) instead of 101"
        case .missingUpgradeToken: "the answer has no `Upgrade: websocket`"
        case .missingConnectionToken: "the answer has no `Connection: Upgrade`"
        case .badAccept: "the answer's Sec-WebSocket-Accept does not match our key"
        }
    }

    /// The first line of a refusal's body, if it came with the head: printable
    /// ASCII only and short, since it ends up on a terminal.
    static func firstLine(_ body: ArraySlice<UInt8>) -> String? {
        let line = body.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }.prefix(200)
        guard !line.isEmpty, line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: line, as: UTF8.self)
    }

    /// Reads at least one byte into `buffer`; returns the count. Throws on EOF.
    private func readSome(until deadline: UInt64, what: String) throws -> Int {
        while true {
            let now = Clock.monotonicNanos()
            guard now < deadline else { throw TickerClientError.timeout(what) }
            guard try Syscall.poll(fd, for: .read, timeoutMs: Int32((deadline - now) / 1_000_000) + 1) else { continue }
            let result = try buffer.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            switch result {
            case .wouldBlock: continue
            case .processed(0): throw TickerClientError.closed
            case .processed(let n): return n
            }
        }
    }

    private func writeAll(_ bytes: [UInt8], timeoutMs: Int32 = 5_000) throws {
        var offset = 0
        while offset < bytes.count {
            let result = try bytes.withUnsafeBytes { try Syscall.send(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch result {
            case .processed(let n): offset += n
            case .wouldBlock:
                guard try Syscall.poll(fd, for: .write, timeoutMs: timeoutMs) else {
                    throw TickerClientError.timeout("writing to the server")
                }
            }
        }
    }

    /// Feeds received bytes through the protocol state machine into `pending`.
    private func absorb(_ bytes: UnsafeRawBufferPointer) {
        actions.removeAll(keepingCapacity: true)
        ws.receive(bytes, into: &actions)
        for action in actions {
            switch action {
            case .deliver(.text(let text)):
                if let reply = try? ControlReplyDecoder.decode(text) {
                    pending.append(.control(reply))
                } else {
                    pending.append(.unknownText(text))
                }
            case .deliver(.binary(let bytes)):
                binaryFrameBytes += WebSocketFrameEncoder.headerSize(payloadLength: bytes.count, masked: false) + bytes.count
                if keepsBinaryMessages { keptMessages.append(bytes) }
                do {
                    let message = try decoder.decodeMessage(bytes)
                    for tick in message.ticks { tracker.observe(tick) }
                    pending.append(.ticks(sendTimeNs: message.sendTimeNs, message.ticks))
                } catch {
                    // A raw message of an unknown version or type is skipped (v1 allows it).
                    guard case .delta(let why) = error else { continue }
                    pending.append(.decodeError(why))
                    pending.append(.closed(code: nil))
                    shutdownSocket()
                    return
                }
            case .send(let bytes):
                try? writeAll(bytes)
            case .pongReceived, .startCloseTimer:
                break
            case .closeTransport(let code):
                pending.append(.closed(code: code))
                shutdownSocket()
            }
        }
    }

    /// EOF or a reset: `.closed` with the close code the peer sent, if any.
    private func closedByPeer() {
        actions.removeAll(keepingCapacity: true)
        ws.receiveEOF(into: &actions)
        var code: WebSocketCloseCode?
        for case .closeTransport(let c) in actions { code = c }
        pending.append(.closed(code: code))
        shutdownSocket()
    }

    private func shutdownSocket() {
        guard !isClosed else { return }
        isClosed = true
        Syscall.close(fd)
    }

    /// The next event, waiting up to `timeoutMs` (0 = only what is already
    /// here). nil on timeout. After `.closed`, returns nil.
    public func next(timeoutMs: Int32) throws -> ClientEvent? {
        let deadline = Clock.monotonicNanos() + UInt64(max(0, timeoutMs)) * 1_000_000
        while true {
            if pendingIndex < pending.count {
                let event = pending[pendingIndex]
                pendingIndex += 1
                if pendingIndex == pending.count {
                    pending.removeAll(keepingCapacity: true)
                    pendingIndex = 0
                }
                return event
            }
            if isClosed { return nil }
            let now = Clock.monotonicNanos()
            let wait = now >= deadline ? 0 : Int32((deadline - now) / 1_000_000)
            guard try Syscall.poll(fd, for: .read, timeoutMs: wait) else {
                if now >= deadline { return nil }
                continue
            }
            let result: IOResult
            do {
                result = try buffer.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            } catch {
                // A reset ends the stream like EOF: after the server's close
                // frame our reply can meet its closed socket, and the reset
                // that answers it must not hide the code the server sent.
                closedByPeer()
                continue
            }
            switch result {
            case .wouldBlock:
                continue
            case .processed(0):
                closedByPeer()
            case .processed(let n):
                buffer.withUnsafeBytes { absorb(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }

    /// Sends a control request (JSON text).
    public func send(_ request: ControlRequest) throws {
        try sendText(request.encoded())
    }

    /// `intervalMs` > 0 throttles these symbols to one record per interval
    /// (the newest, with the count of what it replaced); 0 is every tick.
    /// A symbol already held changes to this interval.
    public func subscribe(_ symbols: [String], id: Int? = nil, intervalMs: Int = 0) throws {
        try send(.subscribe(id: id, symbols: symbols, intervalMs: intervalMs))
    }

    public func unsubscribe(_ symbols: [String], id: Int? = nil) throws {
        try send(.unsubscribe(id: id, symbols: symbols))
    }

    public func sendText(_ text: String) throws {
        guard let frame = ws.encode(.text, payload: Array(text.utf8)) else { throw TickerClientError.closed }
        try writeAll(frame)
    }

    public func sendBinary(_ bytes: [UInt8]) throws {
        guard let frame = ws.encode(.binary, payload: bytes) else { throw TickerClientError.closed }
        try writeAll(frame)
    }

    /// Writes raw bytes, bypassing framing (tests of the server's error handling).
    public func sendRaw(_ bytes: [UInt8]) throws {
        try writeAll(bytes)
    }

    /// Starts the closing handshake and waits up to `timeoutMs` for the server to finish it.
    public func close(code: WebSocketCloseCode = .normal, timeoutMs: Int32 = 2_000) {
        guard !isClosed else { return }
        actions.removeAll(keepingCapacity: true)
        ws.close(code: code, into: &actions)
        for case .send(let bytes) in actions { try? writeAll(bytes) }
        while let event = try? next(timeoutMs: timeoutMs) {
            if case .closed = event { break }
        }
        shutdownSocket()
    }
}
