import PosixIO

/// New connections per second one loop accepts: a token bucket refilled
/// continuously, with a burst of a quarter second's worth.
struct AcceptBudget {
    let perSecond: Double
    let burst: Double
    var tokens: Double
    /// `nil` before the first accept (the budget starts full).
    var last: Instant?

    /// The process's `acceptsPerSecond`, split across `loops`.
    init(_ policy: OverloadPolicy, loops: Int) {
        perSecond = Double(max(1, policy.acceptsPerSecond / max(1, loops)))
        burst = max(1, perSecond * policy.acceptBurst.seconds)
        tokens = burst
    }

    /// How long until `wanted` tokens are in the bucket (capped at the
    /// burst), plus a millisecond.
    func timeUntil(tokens wanted: Double) -> Nanoseconds {
        let missing = max(0, min(burst, wanted) - tokens)
        return Nanoseconds(UInt64(missing / perSecond * 1e9)) + .milliseconds(1)
    }

    mutating func take(now: Instant) -> Bool {
        if let last { tokens = min(burst, tokens + (now - last).seconds * perSecond) }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The listening socket of one loop (SO_REUSEPORT: the kernel spreads
/// connections across the loops' listeners).
final class Listener: EventHandler {
    let descriptor: Descriptor
    var token = EventToken.none
    /// Not `weak`: one weak reference gives the worker a side table, and
    /// then every retain and release of it (each `Connection.worker` use)
    /// takes the runtime's slow path. The worker owns its listener, so it
    /// outlives it.
    unowned var worker: LoopWorker?

    init(descriptor: Descriptor, worker: LoopWorker?) {
        self.descriptor = descriptor
        self.worker = worker
    }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        worker?.acceptReady(self)
    }
}
