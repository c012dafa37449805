import PosixIO
import ScaleOut
import Synchronization

/// What the node says about itself: the loops' and the feed's metrics, the
/// Redis link's status, `/metrics` and `/healthz`'s verdict.
final class NodeHealth: Sendable {
    let loopMetrics: [LoopMetrics]
    let feedMetrics = FeedMetrics()
    private let config: ServerConfig
    private let broadcast: Broadcast
    private let access: AccessControl?
    private let startedAt: UInt64
    /// The Redis link's own health and metrics (nil in single-node mode).
    private let redisStatus = Mutex<(any RedisLinkStatus)?>(nil)

    init(config: ServerConfig, broadcast: Broadcast, access: AccessControl?, startedAt: UInt64) {
        self.config = config
        self.broadcast = broadcast
        self.access = access
        self.startedAt = startedAt
        loopMetrics = (0..<config.loops).map { _ in LoopMetrics() }
    }

    func setRedisStatus(_ status: any RedisLinkStatus) { redisStatus.withLock { $0 = status } }

    func renderMetrics() -> String {
        BuildInfo.metric(mode: config.redis.map { if case .feed = $0 { "feed" } else { "gateway" } } ?? "single")
        + MetricsRenderer.render(
            loops: loopMetrics,
            feedTicks: broadcast.feedTicks.load(ordering: .relaxed),
            feedBatches: broadcast.feedBatches.load(ordering: .relaxed),
            startedAt: startedAt, now: Clock.wallNanos())
        + MetricsRenderer.renderOverload(
            loops: loopMetrics, inboxes: broadcast.inboxes, feed: feedMetrics, now: Clock.monotonicNanos())
        + (redisStatus.withLock { $0 }?.metrics().map { Prometheus.metric($0.name, $0.kind.rawValue, $0.help, $0.value) }.joined() ?? "")
        + (access?.metricsText() ?? "")
    }

    /// `/healthz`: nil when healthy, else why the node is degraded (the Redis
    /// link down, or a loop whose oldest waiting batch is older than `overload.maxLag`).
    func degradedReason() -> String? {
        if let why = redisStatus.withLock({ $0 })?.degradedReason() { return why }
        let now = Clock.monotonicNanos()
        let limit = config.overload.maxLag
        for (i, inbox) in broadcast.inboxes.enumerated() {
            let lag = Nanoseconds(inbox.lagNanos(now: now))
            if lag > limit {
                return "loop \(i) lags \(lag.milliseconds) ms behind the feed (threshold \(limit.milliseconds) ms)"
            }
        }
        return nil
    }
}
