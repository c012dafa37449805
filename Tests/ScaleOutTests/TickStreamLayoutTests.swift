import Foundation
import GatewayHarness
import RESP
import RedisClient
import ScaleOut
import TestSupport
import Testing

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct TickStreamLayoutTests {
    let layout = TickStreamLayout(prefix: "t", shardCount: 2, maxLength: 100)

    @Test func streamIDsParseAndOrder() {
        #expect(StreamID("1700000000000-5") == StreamID(milliseconds: 1_700_000_000_000, sequence: 5))
        #expect(StreamID("1-2")! < StreamID("1-10")!)
        #expect(StreamID("1-99")! < StreamID("2-0")!)
        for bad in ["", "1", "1-", "-1", "a-1", "1-2-3", "18446744073709551616-0"] { #expect(StreamID(bad) == nil, "\(bad)") }
        #expect(StreamID.zero.description == "0-0")
    }

    @Test func appendIsOneTransaction() {
        let commands = layout.appendCommands(shard: 1, epoch: 7, batch: [0, 13, 10], latest: [(3, [1, 2]), (5, [3])])
        #expect(commands.map { String(decoding: $0[0], as: UTF8.self) } == ["MULTI", "XADD", "HSET", "EXEC"])
        #expect(commands[1] == [b("XADD"), b("t:s:1"), b("MAXLEN"), b("~"), b("100"), b("*"), b("epoch"), b("7"), b("batch"), [0, 13, 10]])
        #expect(commands[2] == [b("HSET"), b("t:last:1"), b("3"), [1, 2], b("5"), [3]])
        #expect(layout.readCommand(after: [.zero, StreamID("5-1")!], blockMs: 1000, count: 64).map { String(decoding: $0, as: UTF8.self) }
                == ["XREAD", "BLOCK", "1000", "COUNT", "64", "STREAMS", "t:s:0", "t:s:1", "0-0", "5-1"])
    }

    @Test func decodesResp2AndResp3Replies() throws {
        let entry: RESPValue = .array([.bulkString(b("5-1")), .array([.bulkString(b("epoch")), .bulkString(b("7")), .bulkString(b("batch")), .bulkString([9])])])
        let resp2: RESPValue = .array([.array([.bulkString(b("t:s:1")), .array([entry])])])
        let resp3: RESPValue = .map([RESPPair(key: .bulkString(b("t:s:1")), value: .array([entry]))])
        let expected = [TickStreamLayout.Entry(shard: 1, id: StreamID("5-1")!, epoch: 7, batch: [9])]
        #expect(try layout.decodeRead(resp2) == expected)
        #expect(try layout.decodeRead(resp3) == expected)
        #expect(try layout.decodeRead(.null) == [])
        #expect(throws: TickStreamLayout.DecodeError.unknownStream("x")) { try layout.decodeRead(.array([.array([.bulkString(b("x")), .array([])])])) }
        #expect(throws: TickStreamLayout.DecodeError.unexpectedShape) { try layout.decodeRead(.integer(1)) }
        let noBatch: RESPValue = .array([.array([.bulkString(b("t:s:0")), .array([.array([.bulkString(b("1-1")), .array([.bulkString(b("epoch")), .bulkString(b("1"))])])])])])
        #expect(throws: TickStreamLayout.DecodeError.missingField("batch")) { try layout.decodeRead(noBatch) }
        let badID: RESPValue = .array([.array([.bulkString(b("t:s:0")), .array([.array([.bulkString(b("x")), .array([])])])])])
        #expect(throws: TickStreamLayout.DecodeError.badEntryID("x")) { try layout.decodeRead(badID) }
    }
}

/// The layout against a real redis-server: a transaction appends, XREAD reads back in order.
@Suite(.enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct TickStreamRedisTests {
    @Test func appendThenReadBackFromLastID() async throws {
        try await gated(.exclusive) {
            let redis = try RedisServer()
            defer { redis.stop() }
            let thread = try LoopThread()
            defer { thread.stop() }
            let layout = TickStreamLayout(prefix: "t", shardCount: 2, maxLength: 100)
            let box = LoopBox<RedisConnection?>(nil)
            let url = try RedisURL(parsing: redis.url)
            thread.sync { loop in
                let c = RedisConnection(options: .init(url: url, jitterSeed: 5), loop: loop)
                c.start()
                box.value = c
            }
            #expect(thread.wait(timeoutMs: 3_000) { _ in box.value?.state == .ready })
            let results = LoopBox<[Result<RESPValue, RedisError>]>([])
            thread.sync { _ in
                let c = box.value!
                c.pipeline {
                    for n in 0..<10 {
                        for command in layout.appendCommands(shard: n % 2, epoch: 42, batch: [UInt8(n), 13, 10], latest: [(UInt32(n % 2), [UInt8(n)])]) {
                            c.send(command) { results.value.append($0) }
                        }
                    }
                    c.send(layout.readCommand(after: [.zero, .zero], blockMs: nil, count: 100)) { results.value.append($0) }
                    c.send("HGETALL", "t:last:1") { results.value.append($0) }
                }
            }
            #expect(thread.wait(timeoutMs: 3_000) { _ in results.value.count == 42 })
            let all = thread.sync { _ in results.value }
            // EXEC answers [stream id, HSET count] for each batch.
            let execs = all.enumerated().filter { $0.offset % 4 == 3 && $0.offset < 40 }.map(\.element)
            #expect(execs.allSatisfy { (try? $0.get().elements?.count) == 2 })
            let entries = try layout.decodeRead(try all[40].get())
            #expect(entries.count == 10)
            #expect(entries.filter { $0.shard == 0 }.map { $0.batch[0] } == [0, 2, 4, 6, 8])
            #expect(entries.filter { $0.shard == 1 }.map { $0.batch[0] } == [1, 3, 5, 7, 9])
            #expect(entries.allSatisfy { $0.epoch == 42 && $0.batch.suffix(2) == [13, 10] })
            let ids = entries.filter { $0.shard == 1 }.map(\.id)
            #expect(ids == ids.sorted())
            // The latest hash agrees with the stream's last entry of that shard.
            #expect(try all[41].get().pairs == [RESPPair(key: .bulkString(b("1")), value: .bulkString([9]))])

            // Catch-up from the last id seen: only newer entries come back.
            let more = LoopBox<[Result<RESPValue, RedisError>]>([])
            thread.sync { _ in
                let c = box.value!
                for command in layout.appendCommands(shard: 1, epoch: 42, batch: [77], latest: []) { c.send(command) { more.value.append($0) } }
                c.send(layout.readCommand(after: [entries.last { $0.shard == 0 }!.id, ids.last!], blockMs: 500, count: 100), extraTimeoutNanos: 500_000_000) {
                    more.value.append($0)
                }
            }
            #expect(thread.wait(timeoutMs: 3_000) { _ in more.value.count == 4 })
            let caughtUp = try layout.decodeRead(try thread.sync { _ in more.value[3] }.get())
            #expect(caughtUp.map(\.batch) == [[77]])
            thread.sync { _ in box.value!.close() }
        }
    }
}
