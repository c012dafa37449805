import HTTP
import PosixIO

/// The probe endpoints, the same on the main port and the admin port, and
/// answered during a drain too (the listeners stay open until the loops
/// stop), so a balancer sees "not ready" rather than a refused connection.
///
/// - `/livez`: the process and its loops answer: 200 unless a running loop
///   has not swept its connections for `stallLimit` (a wedged loop: restart).
///   Never 503 for load alone, so a busy node is not restarted.
/// - `/readyz`: accepting new clients: 503 from the moment a drain starts,
///   while a loop lags past `--max-lag-ms`, or while a gateway's Redis link
///   is down; 200 otherwise.
/// - `/healthz`: as before (503 `degraded: …` on lag or a Redis link down).
enum Probes {
    /// Paths answered whatever the server's state (capacity, per-address
    /// limit, drain), beside `/metrics`.
    static func isProbe(_ path: String) -> Bool {
        path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/metrics"
    }

    /// A loop that has not run its 250 ms sweep for this long is wedged.
    static let stallLimit = Nanoseconds.seconds(10)

    /// The answer for a probe path, nil for any other.
    static func response(path: String, shared: ServerShared) -> HTTPResponse? {
        switch path {
        case "/healthz": return health(shared)
        case "/livez": return live(shared)
        case "/readyz": return ready(shared)
        case "/metrics":
            return Connection.response(status: 200, contentType: "text/plain; version=0.0.4", body: Array(shared.health.renderMetrics().utf8))
        default: return nil
        }
    }

    static func health(_ shared: ServerShared) -> HTTPResponse {
        if let reason = shared.health.degradedReason() {
            return Connection.textResponse(status: 503, text: "degraded: \(reason)")
        }
        return Connection.textResponse(status: 200, text: "ok")
    }

    static func live(_ shared: ServerShared) -> HTTPResponse {
        let now = Clock.monotonicNanos()
        for (i, loop) in shared.health.loopMetrics.enumerated() where !loop.stopped.load(ordering: .relaxed) {
            let beat = loop.lastSweepNanos.load(ordering: .relaxed)
            if beat != 0, now > beat, Nanoseconds(now - beat) > stallLimit {
                return Connection.textResponse(status: 503, text: "loop \(i) has not run for \((now - beat) / 1_000_000) ms")
            }
        }
        return Connection.textResponse(status: 200, text: "live")
    }

    static func ready(_ shared: ServerShared) -> HTTPResponse {
        if shared.shuttingDown.load(ordering: .relaxed) {
            return Connection.textResponse(status: 503, text: "draining: shutting down", extraHeaders: [("Retry-After", "1")])
        }
        if let reason = shared.health.degradedReason() {
            return Connection.textResponse(status: 503, text: "not ready: \(reason)")
        }
        return Connection.textResponse(status: 200, text: "ready")
    }
}
