import Foundation
import GatewayHarness
import Synchronization
import TestSupport
import Testing

/// The real `ticker` executable (built beside the test bundle) run as a
/// child process, so its memory can be read from /proc on its own.
final class ServerProcess: Sendable {
    let process = Process()
    let port: UInt16
    private let errors = Pipe()
    private final class LogBuffer: Sendable {
        let text = Mutex<String>("")
    }
    private let logBuffer = LogBuffer()

    /// Everything the server wrote to standard error so far.
    var log: String { logBuffer.text.withLock { $0 } }

    static var binary: URL? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("ticker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// `fileLimit` runs the server under `ulimit -n` (to exhaust descriptors on purpose).
    /// `command`: `serve` (default) or `feed` (the Redis feed node).
    /// `environment`: variables set over the test's own (`TICKER_<OPTION>`);
    /// `anyPort: false` leaves out `--port 0` (the port then comes from them).
    init(_ arguments: [String], fileLimit: Int? = nil, command: String = "serve",
         environment: [String: String] = [:], anyPort: Bool = true) throws {
        guard ServerGate.held == .exclusive else { throw TestError.notGated("a ticker server process") }
        guard let binary = Self.binary else { throw TestError.timeout("no ticker binary beside \(CommandLine.arguments[0])") }
        let portFlag = anyPort ? ["--port", "0"] : []
        if let fileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", binary.path, command] + portFlag + arguments
        } else {
            process.executableURL = binary
            process.arguments = [command] + portFlag + arguments
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The server logs "listening on http://HOST:PORT/ ..." once ready.
        var log = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
            if let range = log.range(of: #"listening on http://[^:]+:(\d+)/"#, options: .regularExpression) {
                let match = log[range]
                let digits = match.split(separator: ":").last!.dropLast()
                port = UInt16(digits)!
                logBuffer.text.withLock { $0 = log }
                // Keep draining, so a chatty server never blocks on a full pipe.
                errors.fileHandleForReading.readabilityHandler = { [logBuffer] handle in
                    let text = String(decoding: handle.availableData, as: UTF8.self)
                    logBuffer.text.withLock { $0 += text }
                }
                return
            }
        }
        process.terminate()
        throw TestError.timeout("server did not report its port: \(log)")
    }

    /// Resident set size in bytes, from /proc/PID/status. Throws rather than
    /// answer 0: a bound like `growth <= cap` must not pass unmeasured.
    func residentBytes() throws -> Int {
        let path = "/proc/\(process.processIdentifier)/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TestError.unmeasurable("\(path) is unreadable (server exited?)")
        }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            // "VmRSS:     12345 kB"
            guard let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }), kb > 0 else {
                throw TestError.unmeasurable("unparsable \(path) line: \(line)")
            }
            return kb * 1024
        }
        throw TestError.unmeasurable("no VmRSS in \(path)")
    }

    /// CPU seconds (user + system) the process has used, from /proc/PID/stat.
    /// Throws rather than answer 0, which would pass any "no busy loop" bound.
    func cpuSeconds() throws -> Double {
        let path = "/proc/\(process.processIdentifier)/stat"
        guard let stat = try? String(contentsOfFile: path, encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            throw TestError.unmeasurable("\(path) is unreadable (server exited?)")
        }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw TestError.unmeasurable("unparsable \(path): \(stat.prefix(200))")
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        errors.fileHandleForReading.readabilityHandler = nil
        guard process.isRunning else { return }
        process.terminate()
        // A server that ignores SIGTERM is a failure, but never a hung test run.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            Issue.record("server did not exit within 10 s of SIGTERM")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

extension ServerProcess: GatewayNode {}

extension GatewayCluster where Node == ServerProcess {
    /// Redis, a feed node and `gateways` gateways as `ticker` child processes,
    /// for a test inside `gated(.exclusive)`.
    convenience init(gateways: Int, symbols: Int? = 24, loops: Int? = 1, feed: [String] = [], gateway: [String] = []) throws {
        try self.init(gateways: gateways, symbols: symbols, loops: loops, feed: feed, gateway: gateway, redis: RedisServer()) {
            try ServerProcess($1, command: $0)
        }
    }
}
