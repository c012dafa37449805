import Foundation
import MarketData
import PosixIO
import TestSupport
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// `--io-uring on`: a loop's flushes go out in batches through io_uring.
/// Subscribers see the same ordered, complete stream as with `sendmsg`; a
/// client that stops reading is left to EPOLLOUT as before; and a loop that
/// cannot have a ring flushes with `sendmsg`.
@Suite(.serialized) struct IOUringFlushTests {
    static let token = "uring-test-token"

    /// One round: one `/v1/publish` message per symbol, all in one write.
    static func round(_ table: SymbolTable, _ names: [String], sequence: UInt64) -> [UInt8] {
        var write: [UInt8] = []
        for name in names {
            var message: [UInt8] = []
            TickWire.appendHeader(recordCount: 1, sendTimeNs: Clock.wallNanos(), to: &message)
            TickWire.appendRecord(IngestIntegrityTests.tick(table, name, sequence), to: &message)
            write += WebSocketFrameEncoder.encode(opcode: .binary, payload: message, maskKey: UInt32.random(in: 1...UInt32.max))
        }
        return write
    }

    static func publisher(port: UInt16) throws -> TickerClient {
        try TickerClient(url: TickerURL(host: "127.0.0.1", port: port, path: "/v1/publish", query: "token=\(token)"))
    }

    /// The ticks in the WebSocket frames after a 101 (a `RawSocket`'s bytes).
    static func ticks(after bytes: [UInt8]) throws -> [Tick] {
        try serverFrames(after: bytes).filter { $0.header.opcode == .binary }.flatMap { try TickWire.decodeMessage($0.payload).ticks }
    }

    @Test func ringIsRefusedForZeroEntries() {
        // io_uring_setup(0) is EINVAL whatever the kernel: the error path a
        // loop takes when io_uring is missing or disabled.
        #expect(throws: SystemError.self) { try SendBatch(capacity: 0) }
    }

    @Test(.enabled(if: SendBatch.isAvailable, "io_uring is unavailable here"))
    func manySubscribersReceiveEveryTickInOrder() async throws {
        try await withServer(gate: .exclusive, {
            $0.simulatedFeed = false
            $0.publishToken = Self.token
            $0.ioUring = true
            $0.ioUringBatch = 16   // several batches per round
        }) { server throws in
            #expect(server.ioUringLoops == 2)
            let table = server.symbols
            let names = table.all.prefix(10).map(\.symbol)
            let subscribers = try (0..<150).map { _ in try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)) }
            for (i, s) in subscribers.enumerated() { try s.subscribe(Array(names[(i % 5)...].prefix(6)), id: 1) }
            var records = Array(repeating: [Tick](), count: subscribers.count)
            func pump() throws {
                for (i, s) in subscribers.enumerated() {
                    while let event = try s.next(timeoutMs: 0) {
                        if case .ticks(_, let ticks) = event { records[i] += ticks }
                    }
                }
            }
            _ = try eventually(timeoutMs: 500) { try pump(); return false }   // acks settle
            let publisher = try Self.publisher(port: server.port)
            let rounds = 40
            for r in 1...rounds {
                try publisher.sendRaw(Self.round(table, names, sequence: UInt64(r)))
                // Every other round waits for delivery, so some rounds pile up behind others.
                if r % 2 == 0 || r == rounds {
                    let landed = try eventually(timeoutMs: 10_000) {
                        try pump()
                        return records.allSatisfy { $0.count >= r * 6 }
                    }
                    #expect(landed, "round \(r) reached every subscriber")
                }
            }
            for i in subscribers.indices {
                let mine = Array(names[(i % 5)...].prefix(6))
                for name in mine {
                    let id = table.id(of: name)!
                    let seen = records[i].filter { $0.symbolId == id }
                    #expect(seen.map(\.sequence) == (1...UInt64(rounds)).map { $0 }, "subscriber \(i), \(name): every tick, in order")
                    #expect(seen.allSatisfy { $0.flags.isEmpty }, "nothing conflated")
                }
                #expect(records[i].count == rounds * 6)
            }
            let sends = try metric("ticker_io_uring_sends_total", port: server.port) ?? 0
            let submits = try metric("ticker_io_uring_submits_total", port: server.port) ?? 0
            #expect(sends >= Double(subscribers.count * rounds / 2), "flushes went through the ring (\(sends))")
            #expect(submits > 0 && submits < sends, "several sends per io_uring_enter (\(submits) for \(sends))")
        }
    }

    @Test(.enabled(if: SendBatch.isAvailable, "io_uring is unavailable here"))
    func clientThatStopsReadingDrainsThroughEPOLLOUT() async throws {
        try await withServer(gate: .exclusive, {
            $0.simulatedFeed = false
            $0.publishToken = Self.token
            $0.ioUring = true
            $0.loops = 1
            $0.socketSendBufferBytes = 16 * 1024
        }) { server throws in
            let table = server.symbols
            let names = table.all.prefix(10).map(\.symbol)
            // Its receive buffer holds ~4 KiB: the rest waits in the server's queue.
            let stuck = try RawSocket(port: server.port, receiveBuffer: 4096)
            try stuck.write(upgradeRequest(path: "/v1/stream?symbols=" + names.joined(separator: ",")))
            let healthy = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port))
            try healthy.subscribe(names, id: 1)
            var healthyTicks: [Tick] = []
            func pumpHealthy() throws {
                while let event = try healthy.next(timeoutMs: 0) {
                    if case .ticks(_, let ticks) = event { healthyTicks += ticks }
                }
            }
            _ = try eventually(timeoutMs: 500) { try pumpHealthy(); return false }
            try stuck.readAvailable()   // the 101 and welcome
            let publisher = try Self.publisher(port: server.port)
            // ~1,200 records of ~64 bytes plus framing each: ~100 KiB for
            // each subscriber, under the 256 KiB high-water mark (no conflation).
            let rounds = 120
            for r in 1...rounds {
                try publisher.sendRaw(Self.round(table, names, sequence: UInt64(r)))
                if r % 10 == 0 {
                    _ = try eventually(timeoutMs: 5_000) { try pumpHealthy(); return healthyTicks.count >= r * names.count }
                }
            }
            #expect(try eventually(timeoutMs: 5_000) { try pumpHealthy(); return healthyTicks.count == rounds * names.count })
            let queued = try metric("ticker_loop_queued_bytes{loop=\"0\"}", port: server.port) ?? 0
            _ = try eventually(timeoutMs: 1_000) { (try metric("ticker_loop_queued_bytes{loop=\"0\"}", port: server.port) ?? 0) > 0 }
            let backlog = try metric("ticker_loop_queued_bytes{loop=\"0\"}", port: server.port) ?? 0
            #expect(max(queued, backlog) > 16 * 1024, "the stuck client's bytes wait in the server's queue")
            // Nothing more is published: only EPOLLOUT can move the rest.
            let drained = try stuck.read(timeoutMs: 10_000) { bytes in
                ((try? Self.ticks(after: bytes).count) ?? 0) >= rounds * names.count
            }
            #expect(drained)
            let got = try Self.ticks(after: stuck.received)
            #expect(got.count == rounds * names.count, "every record after the backlog drained (\(got.count))")
            for name in names {
                let id = table.id(of: name)!
                #expect(got.filter { $0.symbolId == id }.map(\.sequence) == (1...UInt64(rounds)).map { $0 }, "\(name) in order")
            }
            #expect(got.allSatisfy { $0.flags.isEmpty }, "under the high-water mark nothing is conflated")
        }
    }

    @Test func loopWithoutARingFlushesWithSendmsg() async throws {
        for setup in [(on: false, batch: 64), (on: true, batch: 0)] {
            try await withServer(gate: .exclusive, {
                $0.meanIntervalMs = 20
                $0.ioUring = setup.on
                // A zero-entry ring is refused: the same path as ENOSYS or EPERM.
                $0.ioUringBatch = setup.batch
            }) { server throws in
                #expect(server.ioUringLoops == 0)
                let clients = try (0..<20).map { _ in try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port)) }
                for c in clients { try c.subscribe(["AAPL", "MSFT", "NVDA"], id: 1) }
                let until = Date().addingTimeInterval(1)
                while Date() < until { for c in clients { while try c.next(timeoutMs: 0) != nil {} }; usleep(1_000) }
                for c in clients {
                    #expect(c.tracker.records > 10, "ticks flow (\(c.tracker.records))")
                    #expect(c.tracker.gaps.isEmpty)
                }
                #expect(try metric("ticker_io_uring_loops", port: server.port) == 0)
                #expect(try metric("ticker_io_uring_sends_total", port: server.port) == 0)
            }
        }
    }

    @Test func serveSaysWhichFlushPathIsInUse() async throws {
        try await gated(.exclusive) {
            for (mode, line) in [("on", "batched through io_uring"), ("off", "one sendmsg per connection")] {
                let server = try ServerProcess(["--loops", "1", "--io-uring", mode])
                defer { server.stop() }
                if mode == "on" && !SendBatch.isAvailable { continue }
                #expect(eventually(timeoutMs: 2_000) { server.log.contains(line) }, "--io-uring \(mode): \(server.log)")
            }
        }
    }
}
