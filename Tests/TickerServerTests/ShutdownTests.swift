import Foundation
import PosixIO
import TestSupport
import Testing

/// SIGTERM with thousands of clients: each gets close 1001 within a second,
/// and the process exits within its drain deadline.
@Suite(.serialized) struct ShutdownTests {
    @Test func sigtermClosesThousandsWith1001AndExits() async throws {
        try await gated(.exclusive) {
            // The default feed (52,000 ticks/s): a debug-build server on a loaded
            // 2-core machine falls behind it, and shutdown must not wait behind
            // that (loop inboxes are bounded and shutdown runs before fan-out).
            let server = try ServerProcess(["--loops", "2", "--drain-ms", "2000"])
            defer { server.stop() }
            var clients: [RawSocket] = []
            for _ in 0..<2_000 {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest(path: "/v1/stream?symbols=AAPL"))
                clients.append(s)
            }
            for s in clients { try s.read(timeoutMs: 5_000) { $0.count >= 12 } }
            #expect(clients.allSatisfy { $0.status == 101 })

            let killedAt = Clock.monotonicNanos()
            kill(server.process.processIdentifier, SIGTERM)
            // The budget is the server's: whatever it sent by the 1 s mark is in
            // the clients' socket buffers, however late this test gets to read them.
            Clock.sleep(untilMonotonic: killedAt + 1_000_000_000)
            var got1001 = 0
            var missing: [String] = []
            for s in clients {
                try s.readAvailable()
                let frames = serverFrames(after: s.received)
                if frames.first(where: { $0.header.opcode == .close }).flatMap(closeCode) == 1001 {
                    got1001 += 1
                } else if missing.count < 3 {
                    missing.append("\(s.received.count) bytes, opcodes \(frames.map(\.header.opcode.rawValue)), EOF \(s.sawEOF)")
                }
            }
            #expect(got1001 == clients.count, "\(got1001)/\(clients.count) had close 1001 within 1 s of SIGTERM; e.g. \(missing)")
            // The clients never answer the close; the server must still exit at the drain deadline.
            let deadline = Date().addingTimeInterval(4)
            while server.process.isRunning && Date() < deadline { usleep(20_000) }
            #expect(!server.process.isRunning, "exited within the 2 s drain deadline (+ margin)")
            #expect(server.log.contains("stopped"))
        }
    }
}
