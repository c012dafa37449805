import Testing
import RedisClient

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
