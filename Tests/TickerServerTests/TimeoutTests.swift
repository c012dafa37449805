import Foundation
import Testing
import TickerServer
import WebSocketProtocol

/// Deadlines that free resources held by peers that stop cooperating.
@Suite(.serialized) struct TimeoutTests {
    /// A half-open peer (e.g. SIGSTOPped, or its network gone) never answers
    /// pings: it is closed with 4002 after the ping interval plus the pong timeout.
    @Test func unansweredPingsCloseWith4002() async throws {
        try await withServer({ $0.heartbeatIntervalMs = 300; $0.pongTimeoutMs = 400 }) { server throws in
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest())
            let started = Date()
            #expect(try s.read(timeoutMs: 5_000) { serverFrames(after: $0).contains { $0.header.opcode == .close } })
            let elapsed = Date().timeIntervalSince(started)
            let frames = serverFrames(after: s.received)
            #expect(frames.contains { $0.header.opcode == .ping }, "pinged first")
            #expect(frames.first { $0.header.opcode == .close }.flatMap(closeCode) == 4002)
            #expect(elapsed >= 0.6 && elapsed < 2.0, "closed after interval + timeout: \(elapsed) s")
            #expect(try s.read(timeoutMs: 3_000), "TCP closed after the close timeout")
            #expect(try metric("ticker_heartbeat_timeouts_total", port: server.port) == 1)
            #expect(eventually(timeoutMs: 2_000) { server.openConnections <= 1 })
        }
    }

    /// A client that answers pings stays connected across several intervals.
    @Test func answeredPingsKeepTheConnection() async throws {
        try await withServer({ $0.heartbeatIntervalMs = 200; $0.pongTimeoutMs = 300 }) { server throws in
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest())
            var answered = 0
            let until = Date().addingTimeInterval(1.5)
            while Date() < until {
                try s.read(timeoutMs: 100)
                let pings = serverFrames(after: s.received).filter { $0.header.opcode == .ping }
                while answered < pings.count {
                    try s.write(maskedFrame(.pong, pings[answered].payload))
                    answered += 1
                }
            }
            #expect(answered >= 4)
            #expect(!serverFrames(after: s.received).contains { $0.header.opcode == .close })
            #expect(!s.sawEOF)
        }
    }

    /// The peer never answers our close: the socket is dropped at the close timeout.
    @Test func unfinishedCloseHandshakeIsForceClosed() async throws {
        try await withServer({ $0.closeTimeoutMs = 500 }) { server throws in
            let s = try RawSocket(port: server.port)
            try s.write(upgradeRequest())
            try s.read(timeoutMs: 2_000) { serverFrames(after: $0).count >= 1 }
            let started = Date()
            try s.write(maskedFrame(.text, [0xFF]))   // invalid UTF-8: the server starts closing (1007)
            #expect(try s.read(timeoutMs: 3_000) { _ in false } == true, "EOF without our close reply")
            let elapsed = Date().timeIntervalSince(started)
            #expect(serverFrames(after: s.received).first { $0.header.opcode == .close }.flatMap(closeCode) == 1007)
            #expect(elapsed >= 0.4 && elapsed < 1.5, "dropped at the 500 ms close timeout (+ sweep): \(elapsed) s")
        }
    }

    /// Pings sent by a peer that never reads: the pongs would pile up, so
    /// past the per-connection cap the server cuts it off.
    @Test func pingFloodWhileNeverReadingIsBounded() async throws {
        try await withServer({ $0.overload.backlog.highWaterMark = 16 * 1024; $0.overload.backlog.maxSymbolsPerConnection = 16; $0.socketSendBufferBytes = 4096 }) { server throws in
            let s = try RawSocket(port: server.port, receiveBuffer: 4096)
            try s.write(upgradeRequest())
            let ping = maskedFrame(.ping, [UInt8](repeating: 0x61, count: 125))
            var sent = 0
            var cutOff = false
            while sent < 20_000 && !cutOff {
                do { try s.write(Array(repeating: ping, count: 50).flatMap { $0 }) } catch { cutOff = true }
                sent += 50
            }
            // The pings may all sit in kernel buffers before the server has read
            // them: wait for it to get there rather than race it.
            #expect(try eventually(timeoutMs: 5_000) { try metric("ticker_protocol_errors_total", port: server.port) ?? 0 >= 1 },
                    "cut off for flooding")
            #expect(eventually(timeoutMs: 5_000) { server.openConnections <= 1 })
        }
    }
}
