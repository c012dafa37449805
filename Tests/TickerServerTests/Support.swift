import Foundation
import PosixIO
import TestSupport
import TickerClient
import TickerServer
import WebSocketProtocol

/// Starts an in-process server on 127.0.0.1 with a free port, runs `body`,
/// then shuts it down and waits for its threads. Holds the `ServerGate`
/// (shared by default; `.exclusive` for tests with hundreds of sockets).
func withServer<T>(
    gate: ServerGate.Mode = .shared,
    _ configure: (inout ServerConfig) -> Void = { _ in },
    _ body: (TickerServer) throws -> T
) async throws -> T {
    try await gated(gate) {
        let server = try startTestServer(configure)
        defer {
            server.shutdown()
            server.waitUntilStopped()
        }
        return try body(server)
    }
}

/// `withServer` for an async body (a client's events are an async sequence).
func withServerAsync<T: Sendable>(
    gate: ServerGate.Mode = .shared, _ configure: (inout ServerConfig) -> Void = { _ in },
    _ body: (TickerServer) async throws -> T
) async throws -> T {
    try await gatedAsync(gate) {
        let server = try startTestServer(configure)
        defer {
            server.shutdown()
            server.waitUntilStopped()
        }
        return try await body(server)
    }
}

/// An in-process server on 127.0.0.1, a free port, 2 loops, started.
private func startTestServer(_ configure: (inout ServerConfig) -> Void) throws -> TickerServer {
    var config = ServerConfig()
    config.port = 0
    config.loops = 2
    configure(&config)
    let server = try TickerServer(config: config)
    try server.start()
    return server
}

enum TestError: Error, CustomStringConvertible {
    case timeout(String)
    /// A measurement could not be taken; never read as zero.
    case unmeasurable(String)
    case notGated(String)
    var description: String {
        switch self {
        case .timeout(let what): "timed out: \(what)"
        case .unmeasurable(let what): "cannot measure: \(what)"
        case .notGated(let what): "\(what) must run inside gated(.exclusive) (see ServerGate)"
        }
    }
}

/// A plain TCP client for feeding the server exact bytes.
final class RawSocket {
    let fd: Int32
    private(set) var received: [UInt8] = []
    private(set) var sawEOF = false

    init(port: UInt16, host: String = "127.0.0.1", receiveBuffer: Int = 0, sourceHost: String? = nil) throws {
        fd = try sourceHost.map { try Syscall.connect(host: host, port: port, from: $0) }
            ?? Syscall.connect(host: host, port: port, receiveBuffer: receiveBuffer)
        guard try Syscall.poll(fd, for: .write, timeoutMs: 2_000), Syscall.socketError(fd) == nil else {
            throw TestError.timeout("connect")
        }
    }

    private var isClosed = false

    deinit { close() }

    /// Closes the descriptor now (once); later reads see EOF.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        sawEOF = true
        Syscall.close(fd)
    }

    func write(_ bytes: [UInt8]) throws { try writeAll(fd, bytes) }

    func write(_ text: String) throws { try write(Array(text.utf8)) }

    /// Reads until EOF, `until` says enough, or `timeoutMs` passes. Returns whether it ended by EOF or predicate.
    @discardableResult
    func read(timeoutMs: Int, until done: ([UInt8]) -> Bool = { _ in false }) throws -> Bool {
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !sawEOF && !done(received) {
            let now = Clock.monotonicNanos()
            if now >= deadline { return false }
            guard try Syscall.poll(fd, for: .read, timeoutMs: Int32((deadline - now) / 1_000_000) + 1) else { continue }
            let r: IOResult
            do {
                r = try chunk.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            } catch {
                sawEOF = true   // reset by peer counts as closed
                break
            }
            switch r {
            case .wouldBlock: continue
            case .processed(0): sawEOF = true
            case .processed(let n): received += chunk[0..<n]
            }
        }
        return true
    }

    /// Takes whatever is already in the socket buffer, without waiting.
    func readAvailable() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !sawEOF {
            let r: IOResult
            do {
                r = try chunk.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            } catch {
                sawEOF = true
                return
            }
            switch r {
            case .wouldBlock: return
            case .processed(0): sawEOF = true
            case .processed(let n): received += chunk[0..<n]
            }
        }
    }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// Status code of an HTTP response at the start of `received`.
    var status: Int? {
        let line = text.prefix { $0 != "\r" }
        let parts = line.split(separator: " ")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }
}

/// Writes all of `bytes` to a non-blocking socket, waiting while it is full.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let r = try bytes.withUnsafeBytes { try Syscall.send(fd, UnsafeRawBufferPointer(rebasing: $0[offset...])) }
        switch r {
        case .processed(let n): offset += n
        case .wouldBlock: _ = try Syscall.poll(fd, for: .write, timeoutMs: 1_000)
        }
    }
}

/// The next connection on a non-blocking listener, waited for up to `timeoutMs`.
func acceptOne(_ listenFD: Int32, timeoutMs: Int = 10_000) throws -> Int32 {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1_000)
    while true {
        if let fd = try Syscall.accept(listenFD) { return fd }
        guard Date() < deadline else { throw TestError.timeout("accept") }
        usleep(2_000)
    }
}

func upgradeRequest(path: String = "/v1/stream", version: String = "13", extra: String = "") -> String {
    "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: \(version)\r\n\(extra)\r\n"
}

/// Client frame, masked with a fixed key (the server must unmask).
func maskedFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, maskKey: 0x1234_5678)
}

/// Parses server frames after the 101 response head.
func serverFrames(after bytes: [UInt8]) -> [WebSocketFrame] {
    guard let end = bytes.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound else { return [] }
    var parser = WebSocketFrameParser(role: .client, maxFrameSize: 1 << 24)
    parser.append(Array(bytes[end...]))
    var frames: [WebSocketFrame] = []
    while let frame = try? parser.next() { frames.append(frame) }
    return frames
}

func closeCode(of frame: WebSocketFrame) -> UInt16? {
    guard frame.header.opcode == .close, frame.payload.count >= 2 else { return nil }
    return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
}

/// Reads `/metrics` and returns one sample's value; `token`: an admin token
/// (a server with `--auth-keys` guards `/metrics` on its main port).
func metric(_ name: String, port: UInt16, token: String? = nil) throws -> Double? {
    let s = try RawSocket(port: port)
    try s.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\r\n")
    try s.read(timeoutMs: 2_000)
    for line in s.text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.split(separator: " ")[1])
    }
    return nil
}

/// Polls `condition` every 20 ms for up to `timeoutMs`.
func eventually(timeoutMs: Int, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
