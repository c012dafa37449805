import Foundation
import MarketData
import PosixIO
import Testing
import TickerClient
import WebSocketProtocol

/// A server that sends an undecodable delta message: `AsyncTickerClient`
/// reports `.decodeError`, delivers none of that message's records,
/// reconnects and resumes from the last good record.
@Suite struct DeltaDecodeErrorTests {
    /// One scripted WebSocket peer on a plain socket (no ticker server).
    final class FakePeer {
        let fd: Int32
        private var parser = WebSocketFrameParser(role: .server, maxFrameSize: 1 << 20)
        private(set) var requestLine = ""

        init(accepting listenFD: Int32) throws {
            fd = try acceptOne(listenFD)
            var head: [UInt8] = []
            while !head.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) { head += try readSome() }
            let text = String(decoding: head, as: UTF8.self)
            requestLine = String(text.prefix { $0 != "\r" })
            let key = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            try write(Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: key))\r\n\r\n").utf8))
        }

        deinit { Syscall.close(fd) }

        private func readSome() throws -> [UInt8] {
            guard try Syscall.poll(fd, for: .read, timeoutMs: 10_000) else { throw TestError.timeout("read") }
            var buffer = [UInt8](repeating: 0, count: 4_096)
            let result = try buffer.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) }
            guard case .processed(let n) = result, n > 0 else { throw TestError.timeout("peer closed") }
            return Array(buffer[0..<n])
        }

        func write(_ bytes: [UInt8]) throws { try writeAll(fd, bytes) }

        func send(_ reply: ControlReply) throws {
            try write(WebSocketFrameEncoder.encode(opcode: .text, payload: Array(reply.encoded().utf8)))
        }

        func sendBinary(_ payload: [UInt8]) throws {
            try write(WebSocketFrameEncoder.encode(opcode: .binary, payload: payload))
        }

        /// The next text message from the client.
        func readText() throws -> String {
            while true {
                if let frame = try parser.next(), frame.header.opcode == .text {
                    return String(decoding: frame.payload, as: UTF8.self)
                }
                parser.append(try readSome())
            }
        }
    }

    static let symbol = "ZZDELTA"
    static let aapl = Tick(symbolId: 0, priceExponent: -2, sequence: 10, eventTimeNs: 1_000, bid: 22_749, ask: 22_751,
                           last: 22_750, bidSize: 100, askSize: 200, lastSize: 100)

    @Test func anUndecodableDeltaMessageIsAnErrorEventAndAResumedReconnect() async throws {
        let listenFD = try Syscall.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { Syscall.close(listenFD) }
        let port = Syscall.localPort(listenFD)
        let welcome = ControlReply.welcome(WelcomeInfo(symbolCount: 1, limits: ConnectionLimits(
            maxSymbolsPerConnection: 10, maxMessagesPerSecond: 50, maxMessageBytes: 65_536), epoch: 7, encoding: "delta"))
        let refs = [SymbolRef(symbol: Self.symbol, id: 0)]
        /// The next connection of this test's client: another test's client
        /// may reach this port (an ephemeral port a finished server had);
        /// its connection is closed unanswered.
        @Sendable func ours() throws -> (FakePeer, String) {
            let deadline = Date().addingTimeInterval(20)
            while true {
                do {
                    let peer = try FakePeer(accepting: listenFD)
                    try peer.send(welcome)
                    let request = try peer.readText()
                    if request.contains(Self.symbol) { return (peer, request) }
                } catch where Date() < deadline {
                    continue   // a stranger that hung up
                }
            }
        }
        let peer = Task.detached { () throws -> (String, String, String) in
            let (first, _) = try ours()
            try first.send(.subscribed(id: 1, symbols: refs, resume: nil))
            try first.sendBinary(TickDelta.keyframeMessage([Self.aapl], sendTimeNs: 2_000))
            // Seq 11 of AAPL, then a delta for symbol 5, of which the client has no keyframe.
            var next = Self.aapl
            next.sequence = 11
            var bad = [UInt8](repeating: 0, count: TickWire.headerSize)
            bad.withUnsafeMutableBytes { TickDelta.writeHeader(recordCount: 2, sendTimeNs: 3_000, to: $0.baseAddress!) }
            TickDelta.appendRecord(next, reference: Self.aapl, sendTimeNs: 3_000, to: &bad)
            bad += [5, 0, 2]
            try first.sendBinary(bad)
            let (second, resubscribe) = try ours()
            try second.send(.subscribed(id: 2, symbols: refs, resume: ResumeReport(resumed: ["AAPL"], reset: [])))
            try second.sendBinary(TickDelta.keyframeMessage([next], sendTimeNs: 4_000))
            return (first.requestLine, second.requestLine, resubscribe)
        }
        var configuration = AsyncTickerClient.Configuration(urls: [TickerURL(host: "127.0.0.1", port: port)], symbols: [Self.symbol])
        configuration.backoff = Backoff(initialNanos: 10_000_000, maxNanos: 50_000_000)
        let client = AsyncTickerClient(configuration)
        // Never hang: a stuck exchange ends the stream (and fails the expectations).
        let watchdog = Task {
            try await Task.sleep(nanoseconds: 30_000_000_000)
            client.close()
        }
        defer { watchdog.cancel() }
        var sequences: [UInt64] = [], errors: [String] = [], resumed = 0, gaps = 0, connects = 0
        for try await event in client.events {
            switch event {
            case .ticks(_, let ticks): sequences += ticks.map(\.sequence)
            case .decodeError(let why): errors.append(why)
            case .resumed: resumed += 1
            case .gap: gaps += 1
            case .connected: connects += 1
            default: break
            }
            if sequences.last == 11 { break }
        }
        client.close()
        let (firstLine, secondLine, resubscribe) = try await peer.value
        #expect(firstLine.contains("encoding=delta") && secondLine.contains("encoding=delta"), "\(firstLine)")
        #expect(errors.count == 1 && errors[0].hasPrefix("missing_keyframe"), "\(errors)")
        #expect(sequences == [10, 11], "none of the bad message's records; seq 11 again after the resume")
        #expect(resubscribe.contains(#""from":{"ZZDELTA":10}"#), "\(resubscribe)")
        #expect(resumed == 1 && gaps == 0 && connects == 2)
    }
}
