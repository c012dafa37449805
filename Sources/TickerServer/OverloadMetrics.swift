import PosixIO
import Synchronization

/// One loop's overload and freshness figures: lag, conflation at the loop
/// level, closes by code, refusals by reason and the fan-out latency
/// histogram. Written by the loop, read by whichever loop renders `/metrics`.
final class OverloadMetrics: Sendable {
    /// Lag of the last round: how long its oldest batch waited for the loop.
    let lastRoundLagNanos = Atomic<UInt64>(0)
    /// The interval the loop keeps before its next round (0: unpaced; see `RoundPacer`).
    let roundIntervalNanos = Atomic<UInt64>(0)
    /// Ticks in the last round (after loop-level folding).
    let lastRoundTicks = Atomic<Int>(0)
    /// Queued records folded back into slots when connections began conflating.
    let ticksFolded = Atomic<UInt64>(0)
    /// Bytes waiting in this loop's outbound queues, and the queue memory
    /// (chunks) they occupy; summed by the 250 ms sweep.
    let queuedBytes = Atomic<Int>(0)
    let queueAllocatedBytes = Atomic<Int>(0)
    let closesByCode = Mutex<[UInt16: UInt64]>([:])
    let rejectedByReason = Mutex<[String: UInt64]>([:])
    /// Fan-out latency, event time of a batch's first tick to the end of the
    /// round's writes: cumulative counts per `latencyBuckets` bound, plus sum.
    let latency = Mutex<LatencyHistogram>(LatencyHistogram())

    func countClose(_ code: UInt16) {
        closesByCode.withLock { $0[code, default: 0] += 1 }
    }

    func countRejected(_ reason: String) {
        rejectedByReason.withLock { $0[reason, default: 0] += 1 }
    }
}

/// A Prometheus histogram with fixed bounds, in seconds.
struct LatencyHistogram: Sendable {
    static let bounds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
    var counts = [UInt64](repeating: 0, count: LatencyHistogram.bounds.count + 1)
    var sumSeconds = 0.0
    var total: UInt64 = 0

    mutating func observe(seconds: Double) {
        var i = 0
        while i < Self.bounds.count && seconds > Self.bounds[i] { i += 1 }
        counts[i] += 1
        sumSeconds += seconds
        total += 1
    }

    mutating func merge(_ other: LatencyHistogram) {
        for i in counts.indices { counts[i] += other.counts[i] }
        sumSeconds += other.sumSeconds
        total += other.total
    }
}

extension MetricsRenderer {
    /// The overload block of `/metrics`: per-loop lag and queue depth, loop
    /// conflation, closes by code, refusals by reason, fan-out latency and
    /// what the process holds.
    static func renderOverload(loops: [LoopMetrics], inboxes: [LoopInbox], feed: FeedMetrics, now: UInt64) -> String {
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        header("ticker_loop_lag_seconds", "gauge",
               "How long the oldest batch waiting for each event loop has waited (0 when none waits).")
        for (i, inbox) in inboxes.enumerated() {
            out += "ticker_loop_lag_seconds{loop=\"\(i)\"} \(Double(inbox.lagNanos(now: now)) / 1e9)\n"
        }
        header("ticker_loop_round_lag_seconds", "gauge", "Lag of each loop's last fan-out round when it started.")
        for (i, loop) in loops.enumerated() {
            out += "ticker_loop_round_lag_seconds{loop=\"\(i)\"} \(Double(loop.overload.lastRoundLagNanos.load(ordering: .relaxed)) / 1e9)\n"
        }
        header("ticker_loop_round_interval_seconds", "gauge",
               "Interval each loop keeps between fan-out rounds while its sends saturate it (0: a round starts when ticks arrive).")
        for (i, loop) in loops.enumerated() {
            out += "ticker_loop_round_interval_seconds{loop=\"\(i)\"} \(Double(loop.overload.roundIntervalNanos.load(ordering: .relaxed)) / 1e9)\n"
        }
        header("ticker_loop_pending_ticks", "gauge", "Ticks waiting in each loop's inbox (bounded; see --max-pending-ticks).")
        for (i, inbox) in inboxes.enumerated() {
            out += "ticker_loop_pending_ticks{loop=\"\(i)\"} \(inbox.pendingTicks.load(ordering: .relaxed))\n"
        }
        header("ticker_loop_queued_bytes", "gauge",
               "Bytes waiting in each loop's per-connection outbound queues (user space), at the last sweep.")
        for (i, loop) in loops.enumerated() {
            out += "ticker_loop_queued_bytes{loop=\"\(i)\"} \(loop.overload.queuedBytes.load(ordering: .relaxed))\n"
        }
        header("ticker_loop_queue_allocated_bytes", "gauge",
               "Memory held by each loop's outbound queue chunks (queued bytes plus slack and spares), at the last sweep.")
        for (i, loop) in loops.enumerated() {
            out += "ticker_loop_queue_allocated_bytes{loop=\"\(i)\"} \(loop.overload.queueAllocatedBytes.load(ordering: .relaxed))\n"
        }
        header("ticker_loop_conflated_updates_total", "counter",
               "Updates swallowed by loop-level conflation because a loop fell behind the feed.")
        var folded: UInt64 = 0
        for inbox in inboxes { folded &+= inbox.foldedUpdates.load(ordering: .relaxed) }
        out += "ticker_loop_conflated_updates_total \(folded)\n"
        header("ticker_connection_folded_ticks_total", "counter",
               "Queued records folded into conflation slots when a connection fell behind (its stale backlog).")
        var foldedQueued: UInt64 = 0
        for loop in loops { foldedQueued &+= loop.overload.ticksFolded.load(ordering: .relaxed) }
        out += "ticker_connection_folded_ticks_total \(foldedQueued)\n"
        header("ticker_feed_skipped_seconds_total", "counter",
               "Model time the simulated feed skipped because it could not keep its schedule.")
        out += "ticker_feed_skipped_seconds_total \(Double(feed.skippedNanos.load(ordering: .relaxed)) / 1e9)\n"
        header("ticker_feed_skips_total", "counter", "Times the simulated feed skipped ahead instead of bursting.")
        out += "ticker_feed_skips_total \(feed.skips.load(ordering: .relaxed))\n"

        var closes: [UInt16: UInt64] = [:]
        var rejected: [String: UInt64] = [:]
        var histogram = LatencyHistogram()
        for loop in loops {
            for (code, n) in loop.overload.closesByCode.withLock({ $0 }) { closes[code, default: 0] += n }
            for (reason, n) in loop.overload.rejectedByReason.withLock({ $0 }) { rejected[reason, default: 0] += n }
            histogram.merge(loop.overload.latency.withLock { $0 })
        }
        header("ticker_closes_total", "counter", "WebSocket close frames sent by the server, by close code.")
        for code in closes.keys.sorted() { out += "ticker_closes_total{code=\"\(code)\"} \(closes[code]!)\n" }
        header("ticker_rejected_connections_total", "counter",
               "Connections refused, by reason (capacity, per_address, shutting_down, reserve_exhausted).")
        for reason in rejected.keys.sorted() {
            out += "ticker_rejected_connections_total{reason=\"\(reason)\"} \(rejected[reason]!)\n"
        }
        header("ticker_fanout_latency_seconds", "histogram",
               "From a batch's first tick event time to the end of the loop round that wrote it.")
        var cumulative: UInt64 = 0
        for (i, bound) in LatencyHistogram.bounds.enumerated() {
            cumulative += histogram.counts[i]
            out += "ticker_fanout_latency_seconds_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        out += "ticker_fanout_latency_seconds_bucket{le=\"+Inf\"} \(histogram.total)\n"
        out += "ticker_fanout_latency_seconds_sum \(histogram.sumSeconds)\n"
        out += "ticker_fanout_latency_seconds_count \(histogram.total)\n"

        header("ticker_process_resident_bytes", "gauge", "Resident set size of the server process.")
        out += "ticker_process_resident_bytes \(ProcessStats.residentBytes() ?? -1)\n"
        if let heap = ProcessStats.heap() {
            header("ticker_heap_in_use_bytes", "gauge", "C heap bytes in use (malloc'd, including mmapped blocks).")
            out += "ticker_heap_in_use_bytes \(heap.inUse)\n"
            header("ticker_heap_free_held_bytes", "gauge", "C heap bytes free but still held by malloc (fragmentation, arenas).")
            out += "ticker_heap_free_held_bytes \(heap.freeHeld)\n"
        }
        header("ticker_process_open_fds", "gauge", "Open file descriptors of the server process.")
        out += "ticker_process_open_fds \(ProcessStats.openDescriptors() ?? -1)\n"
        header("ticker_process_max_fds", "gauge", "The process's open-file limit (soft RLIMIT_NOFILE, raised to the hard limit at start).")
        out += "ticker_process_max_fds \(ProcessStats.openFileLimit() ?? -1)\n"
        return out
    }
}

/// The simulated feed's own overload figures.
final class FeedMetrics: Sendable {
    let skips = Atomic<UInt64>(0)
    let skippedNanos = Atomic<UInt64>(0)
}
