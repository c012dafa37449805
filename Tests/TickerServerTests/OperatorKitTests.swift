import Foundation
import PosixIO
import TestSupport
import Testing
import TickerServer

/// What an operator deploys with (issue 25): options from the environment,
/// secrets kept off the command line, the version, the probes through a
/// drain, and the systemd units. Each test runs the real `ticker` binary.
@Suite(.serialized) struct OperatorKitTests {
    private func get(_ path: String, port: UInt16) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        try s.read(timeoutMs: 5_000)
        return s
    }

    private func freePort() throws -> UInt16 {
        let fd = try Syscall.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { Syscall.close(fd) }
        return Syscall.localPort(fd)
    }

    @Test func optionsComeFromTheEnvironmentAndFlagsWin() async throws {
        try await gated(.exclusive) {
            let port = try freePort()
            let fromEnvironment = try ServerProcess([], environment: ["TICKER_PORT": "\(port)", "TICKER_NO_FEED": "1"], anyPort: false)
            #expect(fromEnvironment.port == port)
            let metrics = try get("/metrics", port: port)
            #expect(metrics.text.contains("ticker_feed_ticks_total 0"), "TICKER_NO_FEED=1: no simulated feed")
            fromEnvironment.stop()

            // --port 0 on the command line wins over TICKER_PORT.
            let flagged = try ServerProcess(["--no-feed"], environment: ["TICKER_PORT": "\(port)"])
            #expect(flagged.port != port)
            #expect(!flagged.log.contains("ignoring environment variables"), "TICKER_PORT names an option: \(flagged.log)")
            flagged.stop()
        }
    }

    @Test func aBadVariableIsNamedInOneLine() throws {
        let port = try CLI.run(["serve"], timeout: 20, environment: ["TICKER_PORT": "eighty"])
        #expect(port.status == 2)
        #expect(port.stderr == "ticker: TICKER_PORT (--port) takes a whole number from 0 to 65535, not 'eighty'\n")
        let toggle = try CLI.run(["serve", "--port", "0"], timeout: 20, environment: ["TICKER_NO_FEED": "maybe"])
        #expect(toggle.stderr == "ticker: TICKER_NO_FEED takes 1 or 0 (true/false), not 'maybe'\n")
    }

    @Test func versionAndBuildInfo() async throws {
        for arguments in [["--version"], ["version"]] {
            let outcome = try CLI.run(arguments, timeout: 20)
            #expect(outcome.status == 0)
            #expect(outcome.stdout.hasPrefix("ticker \(BuildInfo.version) (protocol v1"))
        }
        try await gated(.exclusive) {
            let server = try ServerProcess(["--no-feed"])
            defer { server.stop() }
            let metrics = try get("/metrics", port: server.port)
            #expect(metrics.text.contains("# TYPE ticker_build_info gauge\n"))
            #expect(metrics.text.contains("ticker_build_info{version=\"\(BuildInfo.version)\",protocol=\"1\","))
            #expect(metrics.text.contains("mode=\"single\"} 1\n"))
        }
    }

    /// The publish token from a file or the environment: accepted on
    /// `/v1/publish`, and nowhere in the process's command line.
    @Test func secretsStayOutOfTheCommandLine() async throws {
        let secret = "tok-\(UInt64.random(in: 1...UInt64.max))"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ticker-token-\(getpid())")
        try (secret + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await gated(.exclusive) {
            // The file, the variable, and the file flag winning over a variable.
            for (arguments, environment) in [(["--publish-token-file", file.path], [String: String]()),
                                              ([], ["TICKER_PUBLISH_TOKEN": secret]),
                                              (["--publish-token-file", file.path], ["TICKER_PUBLISH_TOKEN": "loses"])] {
                let server = try ServerProcess(["--no-feed"] + arguments, environment: environment)
                defer { server.stop() }
                let cmdline = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/cmdline", encoding: .utf8)
                #expect(!cmdline.contains(secret), "the token is not in ps")
                let accepted = try RawSocket(port: server.port)
                try accepted.write(upgradeRequest(path: "/v1/publish", extra: "Authorization: Bearer \(secret)\r\n"))
                try accepted.read(timeoutMs: 5_000) { $0.count >= 12 }
                #expect(accepted.status == 101)
                let refused = try RawSocket(port: server.port)
                try refused.write(upgradeRequest(path: "/v1/publish", extra: "Authorization: Bearer wrong\r\n"))
                try refused.read(timeoutMs: 5_000)
                #expect(refused.status == 401)
            }
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ticker-empty-\(getpid())")
        try "\n".write(to: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: empty) }
        let outcome = try CLI.run(["serve", "--port", "0", "--publish-token-file", empty.path], timeout: 20)
        #expect(outcome.stderr == "ticker: --publish-token-file: '\(empty.path)' is empty\n")
        let noRedis = try CLI.run(["serve", "--port", "0"], timeout: 20, environment: ["TICKER_REDIS_PASSWORD": "x"])
        #expect(noRedis.stderr == "ticker: a Redis password (--redis-password-file, TICKER_REDIS_PASSWORD) needs --redis\n")
        let twice = try CLI.run(["serve", "--port", "0", "--redis", "redis://:inurl@127.0.0.1:1"], timeout: 20,
                                environment: ["TICKER_REDIS_PASSWORD": "x"])
        #expect(twice.stderr.hasPrefix("ticker: give the Redis password once"))
        let emptyToken = try CLI.run(["serve", "--port", "0", "--publish-token", ""], timeout: 20)
        #expect(emptyToken.stderr == "ticker: the publish token is empty (--publish-token or TICKER_PUBLISH_TOKEN)\n")
        let bothFlags = try CLI.run(["serve", "--port", "0", "--publish-token", "a", "--publish-token-file", empty.path], timeout: 20)
        #expect(bothFlags.stderr.hasPrefix("ticker: give the publish token once"))
    }

    /// SIGTERM: `/readyz` turns 503 at once and `/livez` stays 200 until
    /// the process exits; the listener stays open for them (a client in
    /// the middle of its request holds the drain to its deadline), and an
    /// upgrade during the drain gets 503 with Retry-After.
    @Test func probesAnswerThroughADrain() async throws {
        try await gated(.exclusive) {
            let server = try ServerProcess(["--no-feed", "--drain-ms", "2000", "--admin-port", "0"])
            defer { server.stop() }
            #expect(try get("/readyz", port: server.port).status == 200)
            #expect(try get("/livez", port: server.port).status == 200)
            let slow = try RawSocket(port: server.port)
            try slow.write("GET /v1/stream HTTP/1.1\r\nHost: x\r\n")
            usleep(100_000)

            let signalled = Clock.monotonicNanos()
            kill(server.process.processIdentifier, SIGTERM)
            usleep(20_000)
            let ready = try get("/readyz", port: server.port)
            let answeredMs = Double(Clock.monotonicNanos() - signalled) / 1e6
            #expect(ready.status == 503)
            #expect(ready.text.contains("draining"))
            #expect(answeredMs < 1_000, "answered \(answeredMs) ms after SIGTERM")
            #expect(try get("/livez", port: server.port).status == 200)
            let upgrade = try RawSocket(port: server.port)
            try upgrade.write(upgradeRequest())
            try upgrade.read(timeoutMs: 5_000)
            #expect(upgrade.status == 503)
            #expect(upgrade.text.contains("Retry-After: 1\r\n"))

            var lastLive: Int?
            while server.process.isRunning {
                if let s = try? RawSocket(port: server.port) {
                    try? s.write("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
                    _ = try? s.read(timeoutMs: 1_000)
                    if let status = s.status { lastLive = status }
                }
                usleep(100_000)
            }
            let exitMs = Double(Clock.monotonicNanos() - signalled) / 1e6
            #expect(lastLive == 200, "/livez answered 200 until the end")
            #expect(server.process.terminationStatus == 0)
            #expect(exitMs < 2_000 + 1_500, "exited \(exitMs) ms after SIGTERM")
        }
    }

    /// The units in docs/deploy pass `systemd-analyze verify`, with
    /// `ExecStart` pointed at the binary built here.
    @Test func serviceUnitsVerify() throws {
        guard let binary = ServerProcess.binary else { throw TestError.timeout("no ticker binary") }
        let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
        let tool = try #require(analyze, "systemd-analyze is missing: run Scripts/install-test-tools.sh (Debian package systemd)")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ticker-units-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["ticker.service", "ticker-feed.service"] {
            let text = try String(contentsOf: root.appendingPathComponent("docs/deploy/\(name)"), encoding: .utf8)
            #expect(text.contains("ExecStart=/usr/local/bin/ticker "))
            #expect(text.contains("LimitNOFILE="))
            #expect(text.contains("TimeoutStopSec="))
            #expect(text.contains("EnvironmentFile="))
            let unit = dir.appendingPathComponent(name)
            try text.replacingOccurrences(of: "/usr/local/bin/ticker", with: binary.path).write(to: unit, atomically: true, encoding: .utf8)
            let process = Process()
            let errors = Pipe()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = ["verify", unit.path]
            process.standardError = errors
            process.standardOutput = errors
            try process.run()
            process.waitUntilExit()
            let said = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(process.terminationStatus == 0, "\(name): \(said)")
            #expect(said.isEmpty, "\(name): \(said)")
        }
    }
}
