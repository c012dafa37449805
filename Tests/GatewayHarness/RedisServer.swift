import Foundation
import Synchronization
import TestSupport

/// A throwaway redis-server started by the project's own `Scripts/redis.sh` on a free
/// loopback port, with no persistence, in a temp dir; stopped by PID. The one Redis
/// starter of the tests (RedisClientTests, TickerServerTests) and `TickerBench gateways`.
public final class RedisServer: Sendable {
    public let port: UInt16
    private let state: Mutex<(pid: Int32, dir: String)>

    public var pid: Int32 { state.withLock { $0.pid } }
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// redis-server on PATH. In CI (`CI` set) the tests run regardless, so a missing
    /// install fails them instead of skipping them.
    public static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/redis-server") }
    }()

    public static let skipReason = "redis-server is not installed (bash Scripts/install-test-tools.sh installs it)"

    /// `port` reuses a port (to restart "the same" Redis empty after a kill).
    /// A test must hold `gated(.exclusive)`; the benchmark, which runs alone,
    /// passes `requireGate: false`.
    public init(port: UInt16? = nil, requireGate: Bool = true) throws {
        guard !requireGate || ServerGate.held == .exclusive else {
            throw HarnessError("a redis-server process must run inside gated(.exclusive) (see ServerGate)")
        }
        let (p, pid, dir) = try Self.launch(port: port)
        self.port = p
        state = Mutex((pid, dir))
    }

    /// Runs `Scripts/redis.sh start` (see `shellOutput`).
    private static func launch(port: UInt16?) throws -> (UInt16, Int32, String) {
        let script = Repository.path("Scripts/redis.sh")
        let (status, text) = shellOutput("bash '\(script)' start \(port.map { String($0) } ?? "") 2>&1")
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard status == 0, fields.count == 3, let p = UInt16(fields[0]), let pid = Int32(fields[1]) else {
            throw HarnessError("Scripts/redis.sh start failed (status \(status)): \(text); is redis-server installed? (Scripts/install-test-tools.sh)")
        }
        return (p, pid, String(fields[2]))
    }

    /// `kill -9`: no shutdown, no save (there is no persistence anyway).
    public func kill9() {
        let pid = self.pid
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        waitGone(pid)
        state.withLock { $0.pid = 0 }
    }

    /// Starts a fresh, empty redis-server on the same port (after `kill9`).
    public func restartEmpty() throws {
        let (_, pid, dir) = try Self.launch(port: port)
        let old = state.withLock { s in
            defer { s = (pid, dir) }
            return s.dir
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    public func stop() {
        let (pid, dir) = state.withLock { s in
            defer { s.pid = 0 }
            return (s.pid, s.dir)
        }
        if pid > 0 {
            // SIGKILL: there is no persistence to flush, and children of the test process
            // inherit its blocked SIGTERM.
            kill(pid, SIGKILL)
            waitGone(pid)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    @discardableResult
    private func waitGone(_ pid: Int32, seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            // Reaped by init once orphaned; a zombie still answers kill(0), so read its state.
            if kill(pid, 0) != 0 { return true }
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" { return true }
            usleep(10_000)
        }
        return false
    }

    deinit { stop() }
}
