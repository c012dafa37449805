import PosixIO
import RedisClient

extension RedisGatewaySource {
    public func degradedReason() -> String? { link.reason(url) }

    public func metrics() -> [LinkMetric] {
        let newest = lastEntryMs.load(ordering: .relaxed)
        let nowMs = Clock.wallNanos() / 1_000_000
        let lag = newest == 0 || nowMs < newest ? 0 : Double(nowMs - newest) / 1000
        return link.metrics() + [
            .counter("ticker_redis_entries_read_total", "Stream entries read.",
                     entries.load(ordering: .relaxed)),
            .counter("ticker_redis_ticks_total", "Ticks posted to the loops from Redis.",
                     ticks.load(ordering: .relaxed)),
            .counter("ticker_redis_declared_gaps_total", "Ticks flagged conflated because updates before them never arrived.",
                     declaredGaps.load(ordering: .relaxed)),
            .counter("ticker_redis_stale_ticks_total", "Ticks dropped because their sequence was not past the last one.",
                     staleTicks.load(ordering: .relaxed)),
            .counter("ticker_redis_foreign_epoch_entries_total", "Entries of another feed epoch, dropped (each makes the gateway re-read the epoch).",
                     foreignEpochEntries.load(ordering: .relaxed)),
            .counter("ticker_redis_feed_restarts_total", "Feed restarts handled in place (a new epoch adopted, baselines reset).",
                     feedRestarts.load(ordering: .relaxed)),
            .counter("ticker_redis_baseline_resets_total", "Ticks sent flagged snapshot because the feed restarted.",
                     baselineResets.load(ordering: .relaxed)),
            .gauge("ticker_redis_epoch", "The feed epoch this gateway follows.", node.epoch),
            .gauge("ticker_redis_lag_seconds", "Wall time since the newest entry read was written.", lag),
        ]
    }

    /// The feed's epoch, read from a short-lived connection on the calling
    /// thread's own loop (not a client loop; called before the server starts).
    /// Waits up to `timeoutMs` for a feed to have written it.
    public static func fetchEpoch(url: RedisURL, layout: TickStreamLayout, timeoutMs: Int) throws(ScaleOutError) -> UInt64 {
        let loop: EventLoop
        do { loop = try EventLoop() } catch { throw .loop("redis loop: \(error.reason)") }
        let connection = RedisConnection(options: .init(url: url, clientName: "ticker-gateway-start"), loop: loop)
        var epoch: UInt64?
        var lastProblem = "no answer"
        var asking = false
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        func ask() {
            guard !asking, connection.state == .ready else { return }
            asking = true
            connection.send("GET", layout.epochKey) { result in
                asking = false
                switch result {
                case .success(let value):
                    if let text = value.string, let e = UInt64(text) { epoch = e; loop.stop() } else { lastProblem = "no feed has written \(layout.epochKey) yet" }
                case .failure(let error): lastProblem = "\(error)"
                }
            }
        }
        connection.onReady = { ask() }
        connection.onDisconnect = { lastProblem = "\($0)" }
        do {
            try loop.addRepeatingTimer(intervalNanos: 100_000_000) {
                connection.tick()
                ask()
                if Clock.monotonicNanos() > deadline { loop.stop() }
            }
        } catch {
            throw .loop("redis timer: \(error.reason)")
        }
        connection.start()
        loop.run()
        connection.close()
        guard let epoch else {
            throw .redis("cannot read the feed's epoch from \(url.host):\(url.port) within \(timeoutMs) ms: \(lastProblem)")
        }
        return epoch
    }
}
