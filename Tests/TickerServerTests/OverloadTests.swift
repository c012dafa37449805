import FanoutHub
import Foundation
import MarketData
import PosixIO
import Testing
import WebSocketProtocol
@testable import TickerServer

private func tick(_ symbol: UInt32, _ seq: UInt64) -> Tick {
    Tick(symbolId: symbol, priceExponent: -2, sequence: seq, eventTimeNs: seq,
         bid: 100, ask: 101, last: 100, bidSize: 1, askSize: 1, lastSize: 1)
}

/// The loop inbox never grows past its bound: a loop that falls behind gets
/// the newest tick per symbol with the count of what it swallowed.
@Suite struct LoopInboxTests {
    @Test func foldsTheOldestBatchesPastTheBound() throws {
        let loop = try EventLoop()
        let inbox = LoopInbox(waker: loop.waker, symbolCount: 3, maxPendingTicks: 4)
        var seq: [UInt64] = [0, 0, 0]
        for round in 0..<50 {
            let symbol = UInt32(round % 3)
            seq[Int(symbol)] += 1
            inbox.post(TickBatch(ticks: [tick(symbol, seq[Int(symbol)]), tick(symbol, seq[Int(symbol)] + 1)],
                                 sendTimeNs: 0))
            seq[Int(symbol)] += 1
            #expect(inbox.pendingTicks.load(ordering: .relaxed) <= 4 + 3, "bounded: the pending ticks plus one slot per symbol")
        }
        let taken = inbox.takeAll()
        #expect(taken.folded.count == 3)
        #expect(inbox.foldedUpdates.load(ordering: .relaxed) > 0)
        // Folded slots, then the batches: by the sequence rule, nothing silent.
        var last: [UInt32: UInt64] = [:]
        var swallowed: UInt64 = 0
        for t in taken.folded + taken.batches.flatMap(\.ticks) {
            if let previous = last[t.symbolId] {
                #expect(t.sequence == SequenceRule.expected(after: previous, conflatedCount: t.conflatedCount))
            } else {
                #expect(t.sequence == 1 + UInt64(t.conflatedCount), "the first record declares what came before it")
            }
            if t.conflatedCount > 0 { #expect(t.flags.contains(.conflated)) }
            swallowed += UInt64(t.conflatedCount)
            last[t.symbolId] = t.sequence
        }
        #expect(swallowed == inbox.foldedUpdates.load(ordering: .relaxed))
        #expect(last[0] == seq[0] && last[1] == seq[1] && last[2] == seq[2], "the newest tick of each symbol survives")
        #expect(inbox.takeAll().isEmpty)
    }

    @Test func lagIsTheAgeOfTheOldestWaitingBatch() throws {
        let loop = try EventLoop()
        let inbox = LoopInbox(waker: loop.waker, symbolCount: 1, maxPendingTicks: 100)
        #expect(inbox.lagNanos(now: .max) == 0, "nothing waits")
        inbox.post(TickBatch(ticks: [tick(0, 1)], sendTimeNs: 0))
        let since = inbox.oldestPendingNanos.load(ordering: .relaxed)
        #expect(since > 0)
        #expect(inbox.lagNanos(now: since + 7_000_000) == 7_000_000)
        _ = inbox.takeAll()
        #expect(inbox.lagNanos(now: since + 7_000_000) == 0)
    }
}

/// Past max-connections a client gets an HTTP answer it can act on, and the
/// operator's endpoints keep answering.
@Suite struct CapacityTests {
    @Test func pastMaxConnectionsUpgradesGet503WithRetryAfterAndHealthzAnswers() async throws {
        try await withServer({ $0.overload.maxConnections = 5 }) { server in
            var held: [RawSocket] = []
            for _ in 0..<5 {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest())
                try s.read(timeoutMs: 2_000) { $0.count >= 12 }
                #expect(s.status == 101)
                held.append(s)
            }
            for _ in 0..<3 {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest())
                try s.read(timeoutMs: 2_000)
                #expect(s.status == 503)
                #expect(s.text.contains("Retry-After: 1\r\n"))
                #expect(s.sawEOF, "closed after the answer")
            }
            let health = try RawSocket(port: server.port)
            try health.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            try health.read(timeoutMs: 2_000)
            #expect(health.status == 200)
            #expect(try metric("ticker_rejected_connections_total{reason=\"capacity\"}", port: server.port) == 3)
            held.removeAll()
        }
    }

    @Test func onePeerAddressCannotTakeEverySlot() async throws {
        try await withServer({ $0.overload.maxConnectionsPerAddress = 2 }) { server in
            var held: [RawSocket] = []
            for _ in 0..<2 {
                let s = try RawSocket(port: server.port)
                try s.write(upgradeRequest())
                try s.read(timeoutMs: 2_000) { $0.count >= 12 }
                #expect(s.status == 101)
                held.append(s)
            }
            let third = try RawSocket(port: server.port)
            try third.write(upgradeRequest())
            try third.read(timeoutMs: 2_000)
            #expect(third.status == 429)
            #expect(third.text.contains("Retry-After: 1\r\n"))
            // Another address of 127.0.0.0/8 is a different peer.
            let other = try RawSocket(port: server.port, host: "127.0.0.1", sourceHost: "127.0.0.2")
            try other.write(upgradeRequest())
            try other.read(timeoutMs: 2_000) { $0.count >= 12 }
            #expect(other.status == 101)
            // A slot freed is a slot back.
            held[0].close()
            #expect(eventually(timeoutMs: 2_000) {
                guard let s = try? RawSocket(port: server.port) else { return false }
                try? s.write(upgradeRequest())
                _ = try? s.read(timeoutMs: 1_000) { $0.count >= 12 }
                return s.status == 101
            })
        }
    }
}
