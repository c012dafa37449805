import Testing
import RESP

@Suite struct RedisURLTests {
    @Test func forms() throws {
        #expect(try RedisURL(parsing: "redis://127.0.0.1") == RedisURL(host: "127.0.0.1"))
        #expect(try RedisURL(parsing: "redis://127.0.0.1:6380/2") == RedisURL(host: "127.0.0.1", port: 6380, database: 2))
        #expect(try RedisURL(parsing: "redis://alice:s%40cr%3At@10.0.0.1:7000/15")
                == RedisURL(host: "10.0.0.1", port: 7000, user: "alice", password: "s@cr:t", database: 15))
        #expect(try RedisURL(parsing: "redis://:pw@localhost/") == RedisURL(host: "localhost", password: "pw"))
        #expect(try RedisURL(parsing: "redis://pw@localhost") == RedisURL(host: "localhost", password: "pw"))
        #expect(try RedisURL(parsing: "redis://[::1]:6390") == RedisURL(host: "::1", port: 6390))
        // The password may hold '@'; the last one ends the credentials.
        #expect(try RedisURL(parsing: "redis://u:a@b@h:1").password == "a@b")
    }

    @Test func errors() {
        #expect(throws: RedisURL.ParseError.scheme) { try RedisURL(parsing: "http://h") }
        #expect(throws: RedisURL.ParseError.host) { try RedisURL(parsing: "redis://") }
        #expect(throws: RedisURL.ParseError.host) { try RedisURL(parsing: "redis://:6379") }
        #expect(throws: RedisURL.ParseError.port) { try RedisURL(parsing: "redis://h:0") }
        #expect(throws: RedisURL.ParseError.port) { try RedisURL(parsing: "redis://h:70000") }
        #expect(throws: RedisURL.ParseError.port) { try RedisURL(parsing: "redis://h:") }
        #expect(throws: RedisURL.ParseError.database) { try RedisURL(parsing: "redis://h/x") }
        #expect(throws: RedisURL.ParseError.database) { try RedisURL(parsing: "redis://h/-1") }
        #expect(throws: RedisURL.ParseError.escape) { try RedisURL(parsing: "redis://u:%4@h") }
        #expect(throws: RedisURL.ParseError.query) { try RedisURL(parsing: "redis://h?timeout=1") }
    }

    @Test func descriptionMasksThePassword() throws {
        #expect(try RedisURL(parsing: "redis://alice:secret@h:1/3").description == "redis://alice:***@h:1/3")
        #expect(try RedisURL(parsing: "redis://h").description == "redis://h:6379/0")
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func growsExponentiallyWithinJitterBoundsUpToTheCap() {
        var backoff = ReconnectBackoff(baseNanos: 100, capNanos: 1_000, seed: 7)
        let steps: [UInt64] = [100, 200, 400, 800, 1_000, 1_000, 1_000]
        for step in steps {
            #expect(backoff.stepNanos == step)
            let delay = backoff.nextDelayNanos()
            #expect(delay >= step / 2 && delay <= step, "delay \(delay) for step \(step)")
        }
        backoff.reset()
        #expect(backoff.attempt == 0)
        #expect(backoff.stepNanos == 100)
    }

    @Test func jitterSpreadsAFleetAndIsReproducible() {
        func firstDelays(seed: UInt64) -> [UInt64] {
            var backoff = ReconnectBackoff(baseNanos: 1_000_000, capNanos: 1_000_000, seed: seed)
            return (0..<8).map { _ in backoff.nextDelayNanos() }
        }
        #expect(firstDelays(seed: 1) == firstDelays(seed: 1))
        let fleet = (1...20).map { firstDelays(seed: $0)[0] }
        #expect(Set(fleet).count > 15, "20 gateways should not retry in lockstep")
    }

    @Test func hugeAttemptCountsDoNotOverflow() {
        var backoff = ReconnectBackoff(baseNanos: .max / 2, capNanos: .max, seed: 1)
        for _ in 0..<100 { _ = backoff.nextDelayNanos() }
        #expect(backoff.stepNanos == .max)
    }
}
