import Foundation
import PosixIO
import TestSupport
import Testing
import TickerClient
import TickerServer

/// Runs the built `ticker` executable to completion.
enum CLI {
    struct Outcome {
        var status: Int32
        var stderr: String
        var stdout = ""
    }

    /// `environment`: variables set over the test's own.
    static func run(_ arguments: [String], timeout: TimeInterval, environment: [String: String] = [:]) throws -> Outcome {
        guard let binary = ServerProcess.binary else { throw TestError.timeout("no ticker binary beside \(CommandLine.arguments[0])") }
        let process = Process()
        let errors = Pipe()
        // Standard output goes to a file, read after the exit: a chatty command
        // never blocks on a full pipe, and no readability handler runs (its
        // dispatch source closed the pipe's descriptor a second time, by
        // then another test's socket).
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("ticker-cli-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil) else {
            throw TestError.unmeasurable("cannot create \(outputURL.path)")
        }
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle(forWritingTo: outputURL)
        defer { try? output.close() }
        process.executableURL = binary
        process.arguments = arguments
        process.standardError = errors
        process.standardOutput = output
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestError.timeout("ticker \(arguments.joined(separator: " ")) still running after \(timeout) s")
        }
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let out = String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self)
        return Outcome(status: process.terminationStatus, stderr: text, stdout: out)
    }
}

/// Every error the CLI prints is one readable line: no NSError dumps, no Swift
/// enum spellings.
@Suite(.serialized) struct CLIErrorTests {
    @Test func missingSymbolsFileIsOneSentence() throws {
        let outcome = try CLI.run(["serve", "--port", "0", "--symbols", "/nonexistent-dir/nope.csv"], timeout: 20)
        #expect(outcome.status != 0)
        #expect(outcome.stderr
            == "ticker: cannot load the symbol universe: cannot read /nonexistent-dir/nope.csv: no such file or directory\n")
    }

    @Test func tapAgainstAWrongPathSaysWhatTheServerSaid() async throws {
        try await gated(.exclusive) {
            let server = try ServerProcess([])
            defer { server.stop() }
            let outcome = try CLI.run(
                ["tap", "--url", "ws://127.0.0.1:\(server.port)/wrong", "--symbols", "AAPL", "--seconds", "5"], timeout: 20)
            #expect(outcome.status != 0)
            #expect(outcome.stderr == "ticker: the server refused the WebSocket upgrade with 404 Not Found (no such path); "
                + "check the path in the URL (the stream is /v1/stream)\n")
        }
    }

    @Test func tapWithNothingListeningSaysConnectionRefused() throws {
        // A port that was free a moment ago and has no listener now.
        let fd = try Syscall.listen(host: "127.0.0.1", port: 0, reusePort: false)
        let port = Syscall.localPort(fd)
        Syscall.close(fd)
        let outcome = try CLI.run(["tap", "--url", "ws://127.0.0.1:\(port)/v1/stream", "--symbols", "AAPL"], timeout: 20)
        #expect(outcome.status != 0)
        #expect(outcome.stderr == "ticker: cannot connect to 127.0.0.1 port \(port): Connection refused\n")
    }

    @Test func tapWithABadURLNamesTheExpectedForm() throws {
        let outcome = try CLI.run(["tap", "--url", "ftp://example.com/v1/stream", "--symbols", "AAPL"], timeout: 20)
        #expect(outcome.status != 0)
        #expect(outcome.stderr == "ticker: 'ftp://example.com/v1/stream' is not a ws:// or wss://HOST:PORT/PATH URL\n")
    }

    @Test func clientErrorDescriptionsAreSentences() {
        let refused = SystemError("connect", errno: ECONNREFUSED)
        #expect(TickerClientError.connect(host: "h", port: 9, refused).description == "cannot connect to h port 9: Connection refused")
        #expect(TickerClientError.rejected(status: 403, reason: "Forbidden", detail: "origin not allowed").description
            == "the server refused the WebSocket upgrade with 403 Forbidden (origin not allowed)")
        #expect(TickerClientError.rejected(status: 401, reason: "Unauthorized", detail: nil).description
            == "the server refused the WebSocket upgrade with 401 Unauthorized")
        #expect(TickerClientError.closed.description == "the server closed the connection")
        let inUse = TickerServerError.portInUse(host: "0.0.0.0", port: 8080).description
        #expect(inUse.hasPrefix("port 8080 on 0.0.0.0 is already in use") && !inUse.contains("\n"))
        let listen = TickerServerError.listen(host: "10.1.2.3", port: 80, SystemError("listen", errno: EACCES)).description
        #expect(listen == "cannot listen on 10.1.2.3 port 80: Permission denied")
    }
}
