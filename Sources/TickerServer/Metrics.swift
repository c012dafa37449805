import MarketData
import Synchronization

/// Counters written by one event loop and read by whichever loop answers
/// `/metrics`. Relaxed atomics: each value is exact on its own, the set is
/// not a consistent snapshot, which Prometheus does not need.
final class LoopMetrics: Sendable {
    /// Monotonic time of the loop's last sweep (`/livez`); 0 before the first.
    let lastSweepNanos = Atomic<UInt64>(0)
    /// The loop has stopped (drained): `/livez` no longer expects it to sweep.
    let stopped = Atomic<Bool>(false)
    let connections = Atomic<Int>(0)
    let webSockets = Atomic<Int>(0)
    let subscriptions = Atomic<Int>(0)
    let accepted = Atomic<UInt64>(0)
    let ticksQueued = Atomic<UInt64>(0)
    let messagesQueued = Atomic<UInt64>(0)
    let bytesWritten = Atomic<UInt64>(0)
    let conflatedUpdates = Atomic<UInt64>(0)
    let conflationEpisodes = Atomic<UInt64>(0)
    let slowConsumerCloses = Atomic<UInt64>(0)
    let heartbeatTimeouts = Atomic<UInt64>(0)
    let handshakeTimeouts = Atomic<UInt64>(0)
    let protocolErrors = Atomic<UInt64>(0)
    let controlErrors = Atomic<UInt64>(0)
    let acceptBackoffs = Atomic<UInt64>(0)
    let upgradesParked = Atomic<UInt64>(0)
    let rejectedOverCapacity = Atomic<UInt64>(0)
    let httpResponses = Mutex<[Int: UInt64]>([:])
    let batchesPublished = Atomic<UInt64>(0)
    /// 1 while this loop flushes through io_uring (`--io-uring on` and the kernel allows it).
    let ioUringLoops = Atomic<Int>(0)
    let ioUringSubmits = Atomic<UInt64>(0)
    let ioUringSends = Atomic<UInt64>(0)
    /// Every write to a client socket: `sendmsg` passes, io_uring sends, direct writes.
    let socketSends = Atomic<UInt64>(0)
    let overload = OverloadMetrics()

    // Ingest (/v1/publish) refusals by reason. Refusals are rare, so one lock
    // each is cheap, and a dictionary needs no slot per reason up front.
    let ingestRejected = Mutex<[IngestRejection.Reason: UInt64]>([:])

    func add(_ counter: borrowing Atomic<UInt64>, _ n: UInt64 = 1) {
        counter.wrappingAdd(n, ordering: .relaxed)
    }

    func countResponse(status: Int) {
        httpResponses.withLock { $0[status, default: 0] += 1 }
    }
}

/// Prometheus' text exposition format, version 0.0.4: the one place that
/// writes a metric's HELP, TYPE and sample lines.
enum Prometheus {
    static func metric(_ name: String, _ type: String, _ help: String, _ value: String, labels: String? = nil) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name)\(labels.map { "{\($0)}" } ?? "") \(value)\n"
    }

    static func counter(_ name: String, _ help: String, _ value: UInt64) -> String {
        metric(name, "counter", help, String(value))
    }

    static func gauge(_ name: String, _ help: String, _ value: some CustomStringConvertible) -> String {
        metric(name, "gauge", help, value.description)
    }
}

/// Renders every loop's counters (summed) plus the feed's in Prometheus'
/// text exposition format, version 0.0.4.
enum MetricsRenderer {
    static func render(loops: [LoopMetrics], feedTicks: UInt64, feedBatches: UInt64, startedAt: UInt64, now: UInt64) -> String {
        var out = ""
        func line(_ name: String, _ type: String, _ help: String, _ value: String) {
            out += Prometheus.metric(name, type, help, value)
        }
        func sumInt(_ pick: (LoopMetrics) -> Int) -> String { String(loops.reduce(0) { $0 + pick($1) }) }
        func sum(_ pick: (LoopMetrics) -> UInt64) -> String { String(loops.reduce(UInt64(0)) { $0 &+ pick($1) }) }

        line("ticker_uptime_seconds", "gauge", "Seconds since the server started.",
             String(Double(now &- startedAt) / 1e9))
        line("ticker_connections", "gauge", "Open TCP connections (HTTP and WebSocket).",
             sumInt { $0.connections.load(ordering: .relaxed) })
        line("ticker_websocket_connections", "gauge", "Open WebSocket connections.",
             sumInt { $0.webSockets.load(ordering: .relaxed) })
        line("ticker_subscriptions", "gauge", "Symbol subscriptions held by all connections.",
             sumInt { $0.subscriptions.load(ordering: .relaxed) })
        line("ticker_feed_ticks_total", "counter", "Ticks produced by the feed (simulated or published).", String(feedTicks))
        line("ticker_feed_batches_total", "counter", "Batches handed to the event loops.", String(feedBatches))
        line("ticker_accepted_total", "counter", "TCP connections accepted.", sum { $0.accepted.load(ordering: .relaxed) })
        line("ticker_ticks_queued_total", "counter", "Tick records queued to subscribers.",
             sum { $0.ticksQueued.load(ordering: .relaxed) })
        line("ticker_messages_queued_total", "counter", "Binary tick messages queued to subscribers.",
             sum { $0.messagesQueued.load(ordering: .relaxed) })
        line("ticker_bytes_written_total", "counter", "Bytes written to sockets.",
             sum { $0.bytesWritten.load(ordering: .relaxed) })
        line("ticker_conflated_updates_total", "counter", "Updates replaced by a newer tick while a connection was conflated.",
             sum { $0.conflatedUpdates.load(ordering: .relaxed) })
        line("ticker_conflation_episodes_total", "counter", "Times a connection went over its high-water mark.",
             sum { $0.conflationEpisodes.load(ordering: .relaxed) })
        line("ticker_slow_consumer_closes_total", "counter", "Connections closed with 4001 for not reading.",
             sum { $0.slowConsumerCloses.load(ordering: .relaxed) })
        line("ticker_heartbeat_timeouts_total", "counter", "Connections closed with 4002 for not answering pings.",
             sum { $0.heartbeatTimeouts.load(ordering: .relaxed) })
        line("ticker_handshake_timeouts_total", "counter", "Connections closed for not completing the HTTP request in time.",
             sum { $0.handshakeTimeouts.load(ordering: .relaxed) })
        line("ticker_protocol_errors_total", "counter", "WebSocket connections failed for a protocol violation.",
             sum { $0.protocolErrors.load(ordering: .relaxed) })
        line("ticker_control_errors_total", "counter", "Control requests answered with an error.",
             sum { $0.controlErrors.load(ordering: .relaxed) })
        line("ticker_accept_backoffs_total", "counter", "Times accept paused: descriptors ran out (EMFILE/ENFILE) or the accept rate was reached.",
             sum { $0.acceptBackoffs.load(ordering: .relaxed) })
        line("ticker_upgrades_parked_total", "counter", "WebSocket upgrades that waited for the loop's upgrade pace (a connect burst).",
             sum { $0.upgradesParked.load(ordering: .relaxed) })
        line("ticker_rejected_over_capacity_total", "counter", "Connections refused because max-connections was reached.",
             sum { $0.rejectedOverCapacity.load(ordering: .relaxed) })
        line("ticker_io_uring_loops", "gauge", "Event loops flushing through io_uring (0: one sendmsg per connection).",
             sumInt { $0.ioUringLoops.load(ordering: .relaxed) })
        line("ticker_io_uring_submits_total", "counter", "io_uring_enter calls that sent a batch of flushes.",
             sum { $0.ioUringSubmits.load(ordering: .relaxed) })
        line("ticker_io_uring_sends_total", "counter", "Connection flushes sent through io_uring.",
             sum { $0.ioUringSends.load(ordering: .relaxed) })
        line("ticker_socket_sends_total", "counter", "Writes to client sockets (sendmsg, io_uring sends and direct writes).",
             sum { $0.socketSends.load(ordering: .relaxed) })
        var statuses: [Int: UInt64] = [:]
        for loop in loops {
            for (status, n) in loop.httpResponses.withLock({ $0 }) { statuses[status, default: 0] += n }
        }
        out += "# HELP ticker_http_responses_total HTTP responses by status (101 = WebSocket upgrade).\n"
        out += "# TYPE ticker_http_responses_total counter\n"
        for status in statuses.keys.sorted() {
            out += "ticker_http_responses_total{status=\"\(status)\"} \(statuses[status]!)\n"
        }
        renderIngestRejections(loops: loops, into: &out)
        return out
    }
}

extension MetricsRenderer {
    /// Every reason is listed, zeros included, so a dashboard's series exist
    /// before the first refusal.
    static func renderIngestRejections(loops: [LoopMetrics], into out: inout String) {
        var counts: [IngestRejection.Reason: UInt64] = [:]
        for loop in loops {
            for (reason, n) in loop.ingestRejected.withLock({ $0 }) { counts[reason, default: 0] += n }
        }
        out += "# HELP ticker_ingest_rejected_total Messages refused on /v1/publish, by the first rule they broke.\n"
        out += "# TYPE ticker_ingest_rejected_total counter\n"
        for reason in IngestRejection.Reason.allCases {
            out += "ticker_ingest_rejected_total{reason=\"\(reason.rawValue)\"} \(counts[reason, default: 0])\n"
        }
    }
}
