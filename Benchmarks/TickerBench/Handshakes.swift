import Auth
import Foundation
import PosixIO

/// `h1` (issue 23): WebSocket upgrades per second with and without auth,
/// alternating in one run. Waves of `clients` connections to `/v1/stream`
/// with `?token=` (a valid HS256 token; a server without `--auth-keys`
/// ignores the parameter, so both sides send the same bytes), each wave
/// complete when every client has its `welcome`, then closed; repeated for
/// the measured time.
extension Runner {
    func handshakes(clients: Int, setup: ServerSetup) throws -> [RunResult] {
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let keys = NSTemporaryDirectory() + "tickerbench-keys-\(getpid())"
        try "bench:\(Data(secret).base64EncodedString())\n".write(toFile: keys, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: keys) }
        let token = TokenMinter.mint(
            TokenClaims(subject: "bench", expiresAt: Int64(Date().timeIntervalSince1970) + 3_600, symbols: ["*"]),
            kid: "bench", secret: secret)
        var results: [RunResult] = []
        // A `--baseline` binary may predate `--auth-keys`: it runs without.
        for auth in setup.binary == nil ? [false, true] : [false] {
            var labelled = setup
            if auth { labelled.extra += ["--auth-keys=\(keys)"] }
            let server = try BenchServer(arguments: labelled.arguments + [
                "--no-feed", "--max-per-address", "0", "--accept-rate", "1000000",
            ], binary: setup.binary ?? serverBinary, pinned: pinned)
            defer { server.stop() }
            usleep(300_000)
            var upgrades = 0
            let (elapsed, serverCPU, selfCPU) = try window(server) {
                let until = Date().addingTimeInterval(seconds)
                while Date() < until {
                    let fleet = Fleet(symbolCount: 1)
                    try connect(fleet, port: server.port, queries: Array(repeating: "token=\(token)", count: clients))
                    fleet.closeAll()
                    upgrades += clients
                }
            }
            let mode = auth ? "\(setup.label) +auth" : setup.label
            let rate = Double(upgrades) / elapsed
            results.append(RunResult(
                preset: "h1", mode: mode, clients: clients, symbols: 0, symbolsPerClient: 0, seconds: elapsed,
                frames: upgrades, records: upgrades, bytes: 0, framesPerSecond: rate, ticksPerSecond: rate,
                megabytesPerSecond: 0, serverCPUPercent: serverCPU, generatorCPUPercent: selfCPU,
                serverRSSMB: Double(server.residentBytes) / 1_048_576,
                lossCheck: "\(upgrades) upgrades welcomed in waves of \(clients) (\(auth ? "token verified" : "no auth")): "
                    + String(format: "%.0f handshakes/s, %.1f µs of server CPU each", rate, serverCPU / 100 * elapsed * 1e6 / Double(upgrades)),
                lossClean: true,
                warning: selfCPU > serverCPU
                    ? String(format: "the load generator (%.0f%% CPU) was busier than the server (%.0f%%)", selfCPU, serverCPU) : nil))
        }
        return results
    }
}
