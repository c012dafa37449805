import Foundation

/// The real `ticker` executable (built beside the test bundle) run as a
/// child process, so its memory can be read from /proc on its own.
final class ServerProcess {
    let process = Process()
    let port: UInt16
    private let errors = Pipe()

    static var binary: URL? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("ticker")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    init(_ arguments: [String]) throws {
        guard let binary = Self.binary else { throw TestError.timeout("no ticker binary beside \(CommandLine.arguments[0])") }
        process.executableURL = binary
        process.arguments = ["serve", "--port", "0"] + arguments
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
                return
            }
        }
        process.terminate()
        throw TestError.timeout("server did not report its port: \(log)")
    }

    /// Resident set size in bytes, from /proc/PID/status.
    var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kb * 1024
        }
        return 0
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
