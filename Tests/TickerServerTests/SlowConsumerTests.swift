import FanoutHub
import Foundation
import MarketData
import TestSupport
import Testing
import TickerClient
import WebSocketProtocol

/// Clients that never read are conflated, then closed with 4001; the
/// server's memory stays within the documented per-connection cap; healthy
/// clients in the same run see no gap.
@Suite(.serialized) struct SlowConsumerTests {
    @Test func stuckClientsAreConflatedThenClosedAndMemoryStaysBounded() async throws {
        try await gated(.exclusive) {
            let stuckCount = 100
            let highWater = 256 * 1024
            let maxSymbols = 1024
            var settings = BacklogPolicy()
            settings.highWaterMark = highWater
            settings.maxSymbolsPerConnection = maxSymbols
            let perConnectionCap = settings.perConnectionCap
            let server = try ServerProcess([
                // 13,000 ticks/s still fills a stuck "*" client's buffers in under a
                // second; the default 52,000/s can starve this debug-build server while
                // other suites run, and then its inbox backlog, not the stuck clients,
                // is what the RSS measures.
                "--loops", "1", "--interval-ms", "40", "--sndbuf", "65536", "--slow-consumer-ms", "1500",
                "--close-timeout-ms", "5000", "--high-water", "\(highWater)", "--max-symbols", "\(maxSymbols)",
            ])
            defer { server.stop() }

            let healthy = try (0..<10).map { _ in try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)) }
            for client in healthy { try client.subscribe(["AAPL", "MSFT", "NVDA", "TSLA", "JPM"]) }
            func pumpHealthy(_ seconds: Double) throws {
                let until = Date().addingTimeInterval(seconds)
                while Date() < until { for c in healthy { while try c.next(timeoutMs: 0) != nil {} } ; usleep(1_000) }
            }
            try pumpHealthy(1.0)
            let baseline = try server.residentBytes()

            var stuck: [RawSocket] = []
            for _ in 0..<stuckCount {
                let s = try RawSocket(port: server.port, receiveBuffer: 4096)
                try s.write(upgradeRequest(path: "/v1/stream?symbols=*"))
                stuck.append(s)
            }
            var peak = baseline
            var closes = 0.0
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                try pumpHealthy(0.2)
                peak = max(peak, try server.residentBytes())
                closes = try metric("ticker_slow_consumer_closes_total", port: server.port) ?? 0
                if closes >= Double(stuckCount) { break }
            }
            let conflated = try metric("ticker_conflated_updates_total", port: server.port) ?? 0
            #expect(conflated > 0, "stuck clients were conflated first")
            #expect(closes == Double(stuckCount), "every stuck client closed for being slow (\(closes))")
            let growth = peak - baseline
            print("slow consumers: RSS baseline \(baseline / 1024) KiB, peak \(peak / 1024) KiB, growth \(growth / 1024) KiB for \(stuckCount) stuck clients; bound \(stuckCount * perConnectionCap / 1024) KiB")
            #expect(growth <= stuckCount * perConnectionCap)

            // Now they read: each finds the close frame with 4001 after its backlog.
            var codes: [UInt16?] = []
            for s in stuck {
                try s.read(timeoutMs: 3_000) { bytes in serverFrames(after: bytes).contains { $0.header.opcode == .close } }
                codes.append(serverFrames(after: s.received).first { $0.header.opcode == .close }.flatMap(closeCode))
            }
            #expect(codes.allSatisfy { $0 == 4001 }, "close codes: \(Set(codes.map { $0.map(String.init) ?? "none" }))")

            try pumpHealthy(0.5)
            for client in healthy {
                #expect(client.tracker.gaps.isEmpty, "healthy clients see no gap")
                #expect(client.tracker.records > 100)
            }
        }
    }
}
