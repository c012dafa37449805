import Foundation
import PosixIO
import Synchronization
import Testing

/// A throwaway redis-server started by the project's own `Scripts/redis.sh` on a free
/// loopback port, with no persistence, in a temp dir; stopped by PID.
final class RedisTestServer: Sendable {
    let port: UInt16
    private let state: Mutex<(pid: Int32, dir: String)>

    var pid: Int32 { state.withLock { $0.pid } }
    var url: String { "redis://127.0.0.1:\(port)" }

    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// redis-server on PATH. In CI (`CI` set) the tests run regardless, so a missing
    /// install fails them instead of skipping them.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/redis-server") }
    }()

    static let skipReason: Comment = "redis-server is not installed (bash Scripts/install-test-tools.sh installs it)"

    /// `port` reuses a port (to restart "the same" Redis empty after a kill).
    init(port: UInt16? = nil) throws {
        guard ServerGate.held == .exclusive else { throw TestError.notGated("a redis-server process") }
        let (p, pid, dir) = try Self.launch(port: port)
        self.port = p
        state = Mutex((pid, dir))
    }

    /// Runs `Scripts/redis.sh start` (see `shellOutput`).
    private static func launch(port: UInt16?) throws -> (UInt16, Int32, String) {
        let script = repoRoot.appendingPathComponent("Scripts/redis.sh").path
        let (status, text) = shellOutput("bash '\(script)' start \(port.map { String($0) } ?? "") 2>&1")
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard status == 0, fields.count == 3, let p = UInt16(fields[0]), let pid = Int32(fields[1]) else {
            throw TestError.timeout("redis.sh start failed (status \(status)): \(text)")
        }
        return (p, pid, String(fields[2]))
    }

    /// `kill -9`: no shutdown, no save (there is no persistence anyway).
    func kill9() {
        let pid = self.pid
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        waitGone(pid)
        state.withLock { $0.pid = 0 }
    }

    /// Starts a fresh, empty redis-server on the same port (after `kill9`).
    func restartEmpty() throws {
        let (_, pid, dir) = try Self.launch(port: port)
        let old = state.withLock { s in
            defer { s = (pid, dir) }
            return s.dir
        }
        try? FileManager.default.removeItem(atPath: old)
    }

    func stop() {
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

/// A value handed between the test thread and a loop thread under a semaphore.
final class LoopBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// An `EventLoop` on its own thread; `sync` runs a closure on it and waits.
final class LoopThread: @unchecked Sendable {
    let loop: EventLoop
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        loop = try EventLoop()
        let thread = Thread { [self] in
            loop.run()
            done.signal()
        }
        thread.name = "test-loop"
        thread.start()
    }

    func sync<T>(_ body: @escaping (EventLoop) -> T) -> T {
        let result = LoopBox<T?>(nil)
        let work = LoopBox(body)
        let finished = DispatchSemaphore(value: 0)
        loop.waker.execute { loop in
            result.value = work.value(loop)
            finished.signal()
        }
        finished.wait()
        return result.value!
    }

    /// Polls `condition` on the loop thread until true or the timeout.
    func wait(timeoutMs: Int, _ condition: @escaping (EventLoop) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            if sync(condition) { return true }
            usleep(5_000)
        }
        return sync(condition)
    }

    func stop() {
        loop.waker.stop()
        done.wait()
    }
}
