import Foundation
import TestSupport
import Testing

/// Running out of file descriptors is an expected condition, not a crash or a
/// busy loop: accept pauses, established clients carry on, and accepting
/// resumes once descriptors are free.
@Suite(.serialized) struct ResourceLimitTests {
    @Test func emfileOnAcceptBacksOffInsteadOfSpinning() async throws {
        try await gated(.exclusive) {
            let server = try ServerProcess(["--loops", "1", "--no-feed"], fileLimit: 64)
            defer { server.stop() }
            var clients: [RawSocket] = []
            for _ in 0..<90 {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest())
                clients.append(s)
            }
            // Some of these were accepted and upgraded; the rest wait in the backlog.
            usleep(300_000)
            let cpuBefore = try server.cpuSeconds()
            usleep(1_000_000)
            let cpuUsed = try server.cpuSeconds() - cpuBefore
            #expect(cpuUsed < 0.2, "no busy loop while out of descriptors: \(cpuUsed) CPU s in 1 s")
            #expect(server.process.isRunning, "server exited: status \(server.process.isRunning ? 0 : server.process.terminationStatus), log:\n\(server.log.suffix(2000))")

            // Free descriptors: the waiting connections are then accepted.
            for s in clients.prefix(60) { s.close() }
            clients.removeFirst(60)
            var upgraded = 0
            for s in clients {
                try s.read(timeoutMs: 3_000) { $0.count >= 12 }
                if s.status == 101 { upgraded += 1 }
            }
            #expect(upgraded == clients.count, "every waiting client accepted after back-off: \(upgraded)/\(clients.count)")
            let backoffs = try metric("ticker_accept_backoffs_total", port: server.port) ?? 0
            #expect(backoffs >= 1)
        }
    }

    /// Memory and CPU bounds are only as good as their readings: a process
    /// that cannot be read must fail the test, not measure as zero.
    @Test func procReadingsThrowInsteadOfReadingZero() async throws {
        try await gated(.exclusive) {
            let server = try ServerProcess(["--loops", "1", "--no-feed"])
            #expect(try server.residentBytes() > 1_000_000)
            #expect(try server.cpuSeconds() >= 0)
            server.stop()
            #expect(throws: TestError.self) { try server.residentBytes() }
            #expect(throws: TestError.self) { try server.cpuSeconds() }
        }
    }
}
