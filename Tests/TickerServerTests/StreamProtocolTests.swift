import Foundation
import MarketData
import PosixIO
import TestSupport
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// The WebSocket layer of the server on real sockets: framing errors get
/// their close codes, control errors get stable codes and the connection lives.
@Suite(.serialized) struct StreamProtocolTests {
    func opened(_ port: UInt16, firstFrames: [UInt8] = []) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(Array(upgradeRequest().utf8) + firstFrames)
        return s
    }

    func expectClose(_ code: UInt16, after bytes: [UInt8], port: UInt16) throws {
        let s = try opened(port)
        try s.read(timeoutMs: 2_000) { serverFrames(after: $0).count >= 1 }   // welcome
        try s.write(bytes)
        #expect(try s.read(timeoutMs: 3_000) { serverFrames(after: $0).contains { $0.header.opcode == .close } })
        let close = serverFrames(after: s.received).first { $0.header.opcode == .close }
        #expect(close.flatMap(closeCode) == code, "expected close \(code)")
    }

    @Test func firstFrameInTheSameWriteAsTheHandshakeIsNotLost() async throws {
        try await withServer { server throws in
            let subscribe = maskedFrame(.text, Array(#"{"op":"ping","id":99}"#.utf8))
            let s = try opened(server.port, firstFrames: subscribe)
            try s.read(timeoutMs: 3_000) { serverFrames(after: $0).count >= 2 }
            let texts = serverFrames(after: s.received).filter { $0.header.opcode == .text }
                .map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(texts.first?.contains(#""type":"welcome""#) == true)
            #expect(texts.contains { $0.contains(#""type":"pong""#) && $0.contains(#""id":99"#) })
        }
    }

    @Test func unmaskedClientFrameCloses1002() async throws {
        try await withServer { server throws in
            try expectClose(1002, after: WebSocketFrameEncoder.encode(opcode: .text, payload: Array("hi".utf8)), port: server.port)
        }
    }

    @Test func lengthWithTopBitSetCloses1002WithoutATrap() async throws {
        try await withServer { server throws in
            let frame: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]
            try expectClose(1002, after: frame, port: server.port)
        }
    }

    @Test func declaredLengthOverTheLimitCloses1009() async throws {
        try await withServer { server throws in
            // 1 GiB declared, nothing sent: the server must refuse at the header.
            let frame: [UInt8] = [0x82, 0xFF, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]
            try expectClose(1009, after: frame, port: server.port)
        }
    }

    @Test func reservedBitsAndOpcodesClose1002() async throws {
        try await withServer { server throws in
            try expectClose(1002, after: [0xC1, 0x80, 1, 2, 3, 4], port: server.port)
            try expectClose(1002, after: [0x83, 0x80, 1, 2, 3, 4], port: server.port)
        }
    }

    @Test func invalidUTF8Closes1007() async throws {
        try await withServer { server throws in
            try expectClose(1007, after: maskedFrame(.text, [0xCE, 0xBA, 0xE1, 0xBD]), port: server.port)
        }
    }

    /// Bad control input: each gets its stable error code and the connection stays usable.
    @Test func badControlInputGetsStableErrorCodes() async throws {
        try await withServer({ $0.overload.backlog.maxSymbolsPerConnection = 3 }) { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port))
            func nextError(after send: () throws -> Void) throws -> ControlError? {
                try send()
                let deadline = Date().addingTimeInterval(3)
                while Date() < deadline {
                    if case .control(.error(let e))? = try client.next(timeoutMs: 200) { return e }
                }
                return nil
            }
            #expect(try nextError { try client.sendText("not json") }?.code == .badRequest)
            #expect(try nextError { try client.sendText(#"{"op":"dance","id":3}"#) }?.code == .unknownOp)
            let unknown = try nextError { try client.sendText(#"{"op":"subscribe","id":4,"symbols":["AAPL","ZZZZZZ"]}"#) }
            #expect(unknown?.code == .unknownSymbol)
            #expect(unknown?.id == 4)
            #expect(unknown?.symbols == ["ZZZZZZ"])
            #expect(try nextError { try client.subscribe(["AAPL", "MSFT", "GOOGL", "AMZN"], id: 5) }?.code == .limitExceeded)
            #expect(try nextError { try client.sendBinary([1, 2, 3]) }?.code == .unexpectedBinary)
            #expect(try nextError { try client.sendText(#"{"op":"subscribe","id":"x","symbols":"AAPL"}"#) }?.code == .badRequest)

            // Still open and serving.
            try client.send(.ping(id: 6))
            var pong = false
            let deadline = Date().addingTimeInterval(3)
            while Date() < deadline && !pong {
                if case .control(.pong(let id, _))? = try client.next(timeoutMs: 200) { pong = id == 6 }
            }
            #expect(pong, "connection stays open after bad control input")
            client.close()
        }
    }

    @Test func floodingClientIsRateLimitedThenClosed() async throws {
        try await withServer({ $0.overload.maxMessagesPerSecond = 5 }) { server throws in
            let client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port))
            var sawRateLimited = false
            var closeCode: WebSocketCloseCode?
            for i in 0..<200 {
                try? client.send(.ping(id: i))
            }
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, closeCode == nil {
                switch try client.next(timeoutMs: 200) {
                case .control(.error(let e))?: if e.code == .rateLimited { sawRateLimited = true }
                case .closed(let code)?: closeCode = code
                default: continue
                }
            }
            #expect(sawRateLimited)
            #expect(closeCode == .policyViolation)
        }
    }

    @Test func gracefulShutdownSendsGoingAway() async throws {
        try await gated(.shared) {
            var config = ServerConfig()
            config.port = 0
            config.loops = 2
            let server = try TickerServer(config: config)
            try server.start()
            let clients = try (0..<20).map { _ in try opened(server.port) }
            for s in clients { try s.read(timeoutMs: 3_000) { serverFrames(after: $0).count >= 1 } }   // welcome
            let started = Clock.monotonicNanos()
            server.shutdown()
            // The budget is the server's: by the 1 s mark each close must already
            // be in its client's socket buffer, however late this test reads it.
            Clock.sleep(untilMonotonic: started + 1_000_000_000)
            for s in clients {
                try s.readAvailable()
                let close = serverFrames(after: s.received).first { $0.header.opcode == .close }
                #expect(close.flatMap(closeCode) == 1001, "every client had its 1001 within a second")
                s.close()   // EOF: the server need not wait out its drain deadline
            }
            server.waitUntilStopped()
        }
    }
}
