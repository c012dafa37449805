import BenchSupport
import Foundation

/// `ticker serve` as a separate process, so its CPU and memory are its own.
final class BenchServer {
    let process = Process()
    let port: UInt16
    private let errors = Pipe()

    /// The `ticker` built beside this executable.
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("ticker")
    }

    /// `binary`: another `ticker` to measure (e.g. a build of an older
    /// commit, for a before/after in the same run); default: the one beside us.
    /// `command`: `serve` or `feed`; `pinned: false` lets the scheduler place
    /// it (the gateway preset runs more processes than this machine has cores).
    init(arguments: [String], binary: URL? = nil, command: String = "serve", pinned: Bool = true) throws {
        let binary = binary ?? Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchError("no ticker binary at \(binary.path); run `swift build -c release` first")
        }
        // Server on CPU 0, generator on CPU 1 (see Pinning): each side's CPU
        // figure is then its own core's, and they never steal each other's time.
        if pinned, let taskset = Pinning.taskset {
            process.executableURL = taskset
            process.arguments = ["-c", "0", binary.path, command, "--host", "127.0.0.1", "--port", "0"] + arguments
        } else {
            process.executableURL = binary
            process.arguments = [command, "--host", "127.0.0.1", "--port", "0"] + arguments
        }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var log = ""
        while true {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { throw BenchError("server exited before listening: \(log)") }
            log += String(decoding: chunk, as: UTF8.self)
            if let range = log.range(of: #"listening on http://[^:]+:\d+/"#, options: .regularExpression) {
                port = UInt16(log[range].split(separator: ":").last!.dropLast())!
                break
            }
        }
        // Keep draining standard error so the server never blocks on it.
        errors.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
    }

    var pid: Int32 { process.processIdentifier }
    var cpuTicks: UInt64 { ProcFile.cpuTicks(pid: pid) }
    var residentBytes: Int { ProcFile.residentBytes(pid: pid) }

    func stop() {
        errors.fileHandleForReading.readabilityHandler = nil
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

enum ProcFile {
    static func cpuTicks(pid: Int32?) -> UInt64 {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        return (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(ProcStats.cpuTicks) ?? 0
    }

    static func residentBytes(pid: Int32?) -> Int {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        return (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(ProcStats.residentBytes) ?? 0
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// CPU pinning with util-linux `taskset`, when present and the machine has 2+ cores.
enum Pinning {
    static let taskset: URL? = {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2 else { return nil }
        if ProcessInfo.processInfo.environment["TICKER_BENCH_PIN"] == "0" { return nil }
        for dir in ["/usr/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/taskset") {
            return URL(fileURLWithPath: "\(dir)/taskset")
        }
        return nil
    }()

    /// Pins every thread of this process (present and future) to CPU 1.
    static func pinSelf() {
        guard let taskset else { return }
        let p = Process()
        p.executableURL = taskset
        p.arguments = ["-a", "-p", "-c", "1", "\(getpid())"]
        p.standardOutput = FileHandle.nullDevice
        try? p.run()
        p.waitUntilExit()
    }
}
