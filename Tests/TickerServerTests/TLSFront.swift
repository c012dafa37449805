import Foundation
import GatewayHarness
import TestSupport
import Testing

/// A throwaway nginx TLS front (test CA, certificate for 127.0.0.1 and
/// localhost) started by the project's `Scripts/tls-front.sh` in front of
/// one server, in a temp dir; stopped by PID.
final class TLSFront: Sendable {
    let port: UInt16
    let pid: Int32
    let dir: String
    var caFile: String { "\(dir)/ca.pem" }

    /// nginx and openssl installed. In CI (`CI` set) the tests run
    /// regardless, so a missing install fails them instead of skipping them.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let paths = path.split(separator: ":").map(String.init) + ["/usr/sbin"]
        return ["nginx", "openssl"].allSatisfy { tool in
            paths.contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
        }
    }()

    static let skipReason: Comment = "nginx or openssl is not installed (bash Scripts/install-test-tools.sh installs them)"

    init(upstreamPort: UInt16) throws {
        guard ServerGate.held == .exclusive else { throw TestError.notGated("an nginx process") }
        dir = NSTemporaryDirectory() + "ticker-tls-front-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let script = Repository.root.appendingPathComponent("Scripts/tls-front.sh").path
        let (status, text) = shellOutput("bash '\(script)' start '\(dir)' \(upstreamPort) 2>&1")
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard status == 0, fields.count == 2, let p = UInt16(fields[0]), let pid = Int32(fields[1]) else {
            throw TestError.timeout("tls-front.sh start failed (status \(status)): \(text)")
        }
        port = p
        self.pid = pid
    }

    func stop() {
        let script = Repository.root.appendingPathComponent("Scripts/tls-front.sh").path
        _ = shellOutput("bash '\(script)' stop \(pid) 2>&1")
        try? FileManager.default.removeItem(atPath: dir)
    }
}

