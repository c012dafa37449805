import Foundation
import GatewayHarness
import PosixIO
import RESP
import RedisClient
import Retry
import Synchronization
import TestSupport
import Testing

/// Collects replies on the loop thread; read after `LoopThread.wait`.
private final class Replies: @unchecked Sendable {
    var values: [Result<RESPValue, RedisError>] = []
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Runs `body` with a fresh redis-server and a loop thread holding one connection.
private func withRedis(
    _ configure: (inout RedisConnection.Options) -> Void = { _ in },
    _ body: (RedisServer, LoopThread, LoopBox<RedisConnection?>) throws -> Void
) async throws {
    try await gated(.exclusive) {
        let redis = try RedisServer()
        defer { redis.stop() }
        let thread = try LoopThread()
        defer { thread.stop() }
        var options = RedisConnection.Options(url: try RedisURL(parsing: redis.url), jitterSeed: 1)
        configure(&options)
        let box = LoopBox<RedisConnection?>(nil)
        let opts = options
        thread.sync { loop in
            let connection = RedisConnection(options: opts, loop: loop)
            try? connection.startTimer(intervalNanos: 10_000_000)
            connection.start()
            box.value = connection
        }
        defer { thread.sync { _ in box.value?.close(); box.value = nil } }
        #expect(thread.wait(timeoutMs: 3_000) { _ in box.value?.state == .ready }, "never ready: \(String(describing: thread.sync { _ in box.value?.lastError }))")
        try body(redis, thread, box)
    }
}

@Suite(.enabled(if: RedisServer.isAvailable, Comment(rawValue: RedisServer.skipReason)))
struct RedisConnectionTests {
    @Test func pipelinedRepliesArriveInOrder() async throws {
        try await withRedis { _, thread, box in
            let replies = Replies()
            thread.sync { _ in
                let c = box.value!
                c.pipeline {
                    for _ in 0..<2_000 { c.send("INCR", "n") { replies.values.append($0) } }
                    c.send([bytes("SET"), bytes("bin"), [0, 13, 10, 255]]) { replies.values.append($0) }
                    c.send("GET", "bin") { replies.values.append($0) }
                    c.send("NOSUCHCOMMAND") { replies.values.append($0) }
                    c.send("GET", "missing") { replies.values.append($0) }
                }
            }
            #expect(thread.wait(timeoutMs: 5_000) { _ in replies.values.count == 2_004 })
            thread.sync { _ in
                let counts = replies.values.prefix(2_000).map { try? $0.get().integer }
                #expect(counts == (1...2_000).map { Int64($0) })
                #expect(replies.values[2_000] == .success(.simpleString("OK")))
                #expect(replies.values[2_001] == .success(.bulkString([0, 13, 10, 255])))
                guard case .failure(.reply(let text)) = replies.values[2_002] else {
                    Issue.record("expected an error reply, got \(replies.values[2_002])")
                    return
                }
                #expect(text.hasPrefix("ERR unknown command"))
                #expect(replies.values[2_003] == .success(.null))
                #expect(box.value!.state == .ready, "an error reply keeps the link up")
            }
        }
    }

    @Test func authAndSelectFromTheURL() async throws {
        try await withRedis { redis, thread, box in
            let replies = Replies()
            thread.sync { _ in
                box.value!.send("ACL", "SETUSER", "alice", "on", ">s3cret", "~*", "+@all") { replies.values.append($0) }
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.count == 1 })
            let authed = LoopBox<RedisConnection?>(nil)
            let good = try RedisURL(parsing: "redis://alice:s3cret@127.0.0.1:\(redis.port)/3")
            thread.sync { loop in
                let c = RedisConnection(options: .init(url: good, clientName: "ticker-test", jitterSeed: 2), loop: loop)
                c.start()
                authed.value = c
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in authed.value?.state == .ready })
            let mine = Replies()
            thread.sync { _ in
                authed.value!.send("SET", "where", "db3") { mine.values.append($0) }
                authed.value!.send("CLIENT", "GETNAME") { mine.values.append($0) }
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in mine.values.count == 2 })
            thread.sync { _ in
                // The first connection is on db 0: the key is not there, and is in db 3.
                box.value!.send("GET", "where") { replies.values.append($0) }
                box.value!.send("SELECT", "3") { replies.values.append($0) }
                box.value!.send("GET", "where") { replies.values.append($0) }
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.count == 4 })
            let (named, seen) = thread.sync { _ in (mine.values, replies.values) }
            #expect(named[1] == .success(.bulkString(bytes("ticker-test"))))
            #expect(seen[1] == .success(.null))
            #expect(seen[3] == .success(.bulkString(bytes("db3"))))
            thread.sync { _ in authed.value!.close() }

            // A wrong password: the handshake error is reported and retried with back-off.
            let bad = try RedisURL(parsing: "redis://alice:wrong@127.0.0.1:\(redis.port)")
            let refused = LoopBox<RedisConnection?>(nil)
            thread.sync { loop in
                let c = RedisConnection(options: .init(url: bad, jitterSeed: 3), loop: loop)
                c.start()
                refused.value = c
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in refused.value?.failureCount ?? 0 >= 1 })
            thread.sync { _ in
                let c = refused.value!
                guard case .handshake(let text)? = c.lastError else {
                    Issue.record("expected a handshake error, got \(String(describing: c.lastError))")
                    return
                }
                #expect(text.hasPrefix("WRONGPASS"))
                #expect(c.state == .disconnected)
                c.close()
            }
        }
    }

    @Test func resp3HelloMapsAndPushes() async throws {
        try await withRedis({ $0.resp3 = true }) { _, thread, box in
            let replies = Replies()
            let pushes = LoopBox<[RESPValue]>([])
            thread.sync { _ in
                let c = box.value!
                c.onPush = { pushes.value.append($0) }
                c.send("HSET", "h", "f", "v") { replies.values.append($0) }
                c.send("HGETALL", "h") { replies.values.append($0) }
                c.send("CLIENT", "TRACKING", "on") { replies.values.append($0) }
                c.send("GET", "h2") { replies.values.append($0) }
                c.send("SET", "h2", "x") { replies.values.append($0) }
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.count == 5 && !pushes.value.isEmpty })
            thread.sync { _ in
                #expect(replies.values[1] == .success(.map([RESPPair(key: .bulkString(bytes("f")), value: .bulkString(bytes("v")))])))
                // Our own SET of a key we read invalidates it: an out-of-band push.
                #expect(pushes.value.first?.elements?.first == .bulkString(bytes("invalidate")))
            }
        }
    }

    @Test func reconnectsAfterClientKillAndFailsWhatWasInFlight() async throws {
        try await withRedis { redis, thread, box in
            let replies = Replies()
            let readies = LoopBox(0)
            thread.sync { _ in
                let c = box.value!
                c.onReady = { readies.value += 1 }
                // A blocking read that will be cut by the kill.
                c.send([bytes("BLPOP"), bytes("nothing"), bytes("5")], extraTimeoutNanos: 5_000_000_000) { replies.values.append($0) }
            }
            let killer = LoopBox<RedisConnection?>(nil)
            thread.sync { loop in
                let k = RedisConnection(options: .init(url: try! RedisURL(parsing: redis.url), jitterSeed: 4), loop: loop)
                k.onReady = { k.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes") { replies.values.append($0) } }
                k.start()
                killer.value = k
            }
            #expect(thread.wait(timeoutMs: 3_000) { _ in replies.values.count == 2 })
            #expect(thread.wait(timeoutMs: 3_000) { _ in box.value!.state == .ready && readies.value == 1 })
            thread.sync { _ in
                let lost = replies.values.first { if case .failure(.connectionLost) = $0 { true } else { false } }
                #expect(lost != nil, "the in-flight BLPOP fails with connectionLost: \(replies.values)")
                #expect(box.value!.readyCount == 2)
                box.value!.send("PING") { replies.values.append($0) }
                killer.value!.close()
            }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.last == .success(.simpleString("PONG")) })
        }
    }

    @Test func survivesRedisKilledAndRestartedEmpty() async throws {
        try await withRedis { redis, thread, box in
            let replies = Replies()
            thread.sync { _ in box.value!.send("SET", "k", "v") { replies.values.append($0) } }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.count == 1 })
            redis.kill9()
            #expect(thread.wait(timeoutMs: 2_000) { _ in box.value!.state != .ready })
            thread.sync { _ in box.value!.send("GET", "k") { replies.values.append($0) } }
            #expect(thread.sync { _ in replies.values.last } == .failure(.notConnected))
            // Attempts back off while Redis is down (capped at 1 s by default).
            usleep(1_500_000)
            let attempts = thread.sync { _ in box.value!.failureCount }
            #expect(attempts >= 3 && attempts <= 12, "attempts while down: \(attempts)")
            try redis.restartEmpty()
            let back = Date()
            #expect(thread.wait(timeoutMs: 3_000) { _ in box.value!.state == .ready })
            #expect(Date().timeIntervalSince(back) < 1.5)
            thread.sync { _ in box.value!.send("GET", "k") { replies.values.append($0) } }
            #expect(thread.wait(timeoutMs: 2_000) { _ in replies.values.last == .success(.null) }, "the restarted Redis is empty")
        }
    }
}

/// Back-off schedule with an injected clock: no Redis needed, nothing listens on the port.
@Suite struct RedisReconnectScheduleTests {
    @Test func attemptsFollowTheBackoffWithoutSleeping() async throws {
        try await gated(.shared) {
            // A port with nothing behind it: bind, note the number, close.
            let listener = try Syscall.listen(host: "127.0.0.1", port: 0, reusePort: false)
            let port = Syscall.localPort(listener)
            Syscall.close(listener)
            let thread = try LoopThread()
            defer { thread.stop() }
            let clock = LoopBox<UInt64>(1_000_000_000)
            let box = LoopBox<RedisConnection?>(nil)
            thread.sync { loop in
                let options = RedisConnection.Options(
                    url: RedisURL(host: "127.0.0.1", port: port), backoff: ExponentialBackoff(initialNanos: 100_000_000, maxNanos: 800_000_000),
                    jitterSeed: 9)
                let c = RedisConnection(options: options, loop: loop, now: { clock.value })
                c.start()
                box.value = c
            }
            var steps: [UInt64] = []
            for step in [100, 200, 400, 800, 800].map({ UInt64($0) * 1_000_000 }) {
                #expect(thread.wait(timeoutMs: 2_000) { _ in box.value!.state == .disconnected })
                let (due, failedAt) = thread.sync { _ in (box.value!.reconnectAtNanos, clock.value) }
                let delay = due - failedAt
                #expect(delay >= step / 2 && delay <= step, "delay \(delay) for step \(step)")
                steps.append(delay)
                // Not yet due: a tick does nothing.
                thread.sync { _ in
                    clock.value = due - 1
                    box.value!.tick()
                }
                #expect(thread.sync { _ in box.value!.state } == .disconnected)
                thread.sync { _ in
                    clock.value = due
                    box.value!.tick()
                }
            }
            #expect(thread.sync { _ in box.value!.failureCount } >= 5)
            thread.sync { _ in box.value!.close() }
        }
    }
}
