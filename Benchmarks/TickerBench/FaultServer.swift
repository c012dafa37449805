import BenchSupport
import Foundation
import PosixIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `ticker serve` for the fault suite: a separate process (not pinned; see
/// `init`), started with posix_spawn so that this process reaps
/// it itself (exact exit status and time for the SIGTERM test), under
/// `prlimit --nofile=HARD:HARD` (the server also raises its own soft
/// descriptor limit), with its standard error in a log file.
final class FaultServer: @unchecked Sendable {
    let pid: pid_t
    let port: UInt16
    /// `--admin-port 0`'s pick: `/healthz` and `/metrics` on their own listener and thread.
    let adminPort: UInt16
    private let startedAt = Date()
    let logPath: String
    /// Raw wait status once reaped.
    private(set) var waitStatus: Int32?
    private static let currentPID = Atomic<Int32>(0)
    /// A server past this RSS is killed: a leaking server must not take the
    /// shared machine down with it (the scenario's criteria then fail).
    static let safetyCap = Atomic<Int>(4 << 30)
    private static let memoryKills = Mutex<[String]>([])
    private let guardStop = Atomic<Bool>(false)

    init(arguments: [String], logPath: String) throws {
        let binary = BenchServer.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError("no ticker binary at \(binary.path); run `swift build -c release` first")
        }
        let hard = FileLimit.current.hard
        var argv: [String]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") {
            argv = ["/usr/bin/prlimit", "--nofile=\(hard):\(hard)"]
        } else {
            argv = ["/bin/sh", "-c", "ulimit -n \(hard) && exec \"$0\" \"$@\""]
        }
        // Not pinned (unless TICKER_FAULT_PIN=1): the fault suite measures what
        // an operator running `ticker serve` on this machine gets, both cores
        // and the default loop count. The generator stays on CPU 1, so it can
        // never take more than one core from the server.
        // It must not inherit this process's own pin (CPU 1): taskset widens
        // its mask to every CPU, else it would share the generator's core
        // and, following its affinity mask, run a single loop.
        if let taskset = Pinning.taskset {
            let pin = ProcessInfo.processInfo.environment["TICKER_FAULT_PIN"] == "1"
            argv += [taskset.path, "-c", pin ? "0" : "0-\(ProcessInfo.processInfo.processorCount - 1)"]
        }
        // A profiler or tracer in front of the server (e.g. `perf record -g --`).
        if let wrap = ProcessInfo.processInfo.environment["TICKER_BENCH_WRAP"] { argv += wrap.split(separator: " ").map(String.init) }
        argv += [binary.path, "serve", "--host", "127.0.0.1", "--port", "0", "--admin-port", "0"] + arguments
        self.logPath = logPath
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw BenchError("posix_spawn \(argv[0]): errno \(rc)") }
        pid = child
        Self.currentPID.store(child, ordering: .relaxed)
        Say.line("  server: \(argv.joined(separator: " "))")

        // Ready once it logs "listening on http://HOST:PORT/" and "admin (...) on http://HOST:PORT/".
        let deadline = Date().addingTimeInterval(30)
        var found: UInt16?
        var foundAdmin: UInt16?
        var status: Int32 = 0
        func boundPort(after pattern: String, in log: String) -> UInt16? {
            log.range(of: pattern + #" on http://[^:]+:\d+/"#, options: .regularExpression)
                .flatMap { UInt16(log[$0].split(separator: ":").last!.dropLast()) }
        }
        while found == nil || foundAdmin == nil {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            found = boundPort(after: "listening", in: log)
            foundAdmin = boundPort(after: #"admin \(/healthz, /metrics\)"#, in: log)
            if found != nil && foundAdmin != nil { break }
            if waitpid(child, &status, WNOHANG) == child {
                waitStatus = status
                Self.currentPID.store(0, ordering: .relaxed)
                throw BenchError("server exited before listening: \(log.suffix(2000))")
            }
            if Date() > deadline {
                kill(child, SIGKILL)
                _ = waitpid(child, &status, 0)
                Self.currentPID.store(0, ordering: .relaxed)
                throw BenchError("server did not listen within 30 s: \(log.suffix(2000))")
            }
            usleep(10_000)
        }
        port = found!
        adminPort = foundAdmin!
        let limits = (try? String(contentsOfFile: "/proc/\(child)/limits", encoding: .utf8)).flatMap(FaultParsing.openFilesLimit)
        startMemoryGuard()
        Say.line("  server pid \(child) on 127.0.0.1:\(port) (admin :\(adminPort)), fd limit soft \(limits?.soft ?? "?") hard \(limits?.hard ?? "?") (via prlimit; the server also raises its own soft limit), log \(logPath)")
    }

    var residentBytes: Int { ProcFile.residentBytes(pid: pid) }

    /// Waits until the server's retained history (`--retention-ms`, 10 s by
    /// default) has filled: it grows for that long after start and then
    /// stays flat, so an RSS baseline taken earlier would count its warm-up
    /// as the fault's growth. `every` runs about every 250 ms meanwhile.
    func waitForRetainedHistory(seconds: Double = 10, every: () -> Void = {}) {
        let until = startedAt.addingTimeInterval(seconds + 1)
        guard Date() < until else { return }
        Say.timed("  waiting \(Int(until.timeIntervalSinceNow.rounded(.up))) s for the retained history to fill (RSS baseline after it)")
        while Date() < until {
            every()
            usleep(250_000)
        }
    }

    /// Every 200 ms: kill the server if its RSS passed the safety cap.
    private func startMemoryGuard() {
        let pid = pid
        let thread = Thread { [self] in
            while !guardStop.load(ordering: .relaxed) {
                let rss = ProcFile.residentBytes(pid: pid)
                let cap = FaultServer.safetyCap.load(ordering: .relaxed)
                if rss > cap {
                    kill(pid, SIGKILL)
                    let text = "server RSS \(FaultParsing.bytes(rss)) passed the safety cap \(FaultParsing.bytes(cap)): killed"
                    FaultServer.memoryKills.withLock { $0.append(text) }
                    Say.timed("  \(text)")
                    return
                }
                usleep(200_000)
            }
        }
        thread.name = "fault-memory-guard"
        thread.start()
    }

    /// Memory kills since the last call (the suite fails the scenario on them).
    static func takeMemoryKills() -> [String] {
        memoryKills.withLock { k in defer { k = [] }; return k }
    }
    var cpuTicks: UInt64 { ProcFile.cpuTicks(pid: pid) }

    /// Open descriptors of the server, from /proc/PID/fd.
    var openFiles: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    var isRunning: Bool {
        guard waitStatus == nil else { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            waitStatus = status
            _ = Self.currentPID.compareExchange(expected: pid, desired: 0, ordering: .relaxed)
            guardStop.store(true, ordering: .relaxed)
            return false
        }
        return true
    }

    func signal(_ sig: Int32) { if waitStatus == nil { kill(pid, sig) } }

    /// Polls (every millisecond) until the process exits or `timeout`
    /// passes; the monotonic time it was reaped, or nil.
    func waitForExit(timeout: Double) -> UInt64? {
        let end = Clock.monotonicNanos() + UInt64(timeout * 1e9)
        while Clock.monotonicNanos() < end {
            if !isRunning { return Clock.monotonicNanos() }
            usleep(1_000)
        }
        return isRunning ? nil : Clock.monotonicNanos()
    }

    /// "exit 0", "exit 3", "signal 9".
    var exitDescription: String {
        guard let s = waitStatus else { return "running" }
        if s & 0x7F == 0 { return "exit \((s >> 8) & 0xFF)" }
        return "signal \(s & 0x7F)"
    }

    var exitedCleanly: Bool { waitStatus.map { $0 & 0x7F == 0 && ($0 >> 8) & 0xFF == 0 } ?? false }

    /// SIGTERM, up to 10 s, then SIGKILL; always reaped.
    func stop() {
        guardStop.store(true, ordering: .relaxed)
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if waitForExit(timeout: 10) == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            waitStatus = status
        }
        _ = Self.currentPID.compareExchange(expected: pid, desired: 0, ordering: .relaxed)
    }

    /// The last lines of the server's log (for a failure report).
    func logTail(_ lines: Int = 5) -> String {
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return log.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Kill the server still running, if any (signal handler, watchdog).
    static func killCurrent() {
        let pid = currentPID.exchange(0, ordering: .relaxed)
        if pid > 0 { kill(pid, SIGKILL) }
    }

    /// After a scenario: a server left running (on an error path) is killed.
    static func stopCurrent() {
        let pid = currentPID.exchange(0, ordering: .relaxed)
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// GET `path` on a fresh connection; the body, or nil.
    func get(_ path: String, timeout: Double = 2) -> String? {
        HTTPProbe.get(port: port, path: path, timeout: timeout).body
    }
}
