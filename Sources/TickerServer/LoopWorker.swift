import FanoutHub
import MarketData
import PosixIO
import WebSocketProtocol

/// Everything one event-loop thread owns: its listener, its connections,
/// its fan-out hub and its scratch buffers. Created and used on that thread
/// only; other threads reach it through `inbox` and `loop.waker`.
final class LoopWorker {
    let loop: EventLoop
    let shared: ServerShared
    let metrics: LoopMetrics
    let hub: LoopHub
    let inbox: LoopInbox
    var config: ServerConfig { shared.config }
    var policy: OverloadPolicy { shared.config.overload }
    /// The connections' timeouts, from `config`.
    let deadlineRules: ConnectionDeadlines.Rules

    var listener: Listener?
    var connections: [Connection?] = []
    var freeSlots: [Int] = []
    var liveCount = 0
    /// When each connection with bytes to write is written, and how.
    let flushes: FlushScheduler
    /// When the last fan-out round began.
    private var lastRoundAt = Instant(nanoseconds: 0)
    /// A round's writes are under way; `pacer` hears when they end.
    private var roundInFlight = false
    /// When the next round may start (see `RoundPacer`).
    private var pacer: RoundPacer
    /// Time spent writing since the last round began (flush slices only).
    private var passSendTime = Nanoseconds.zero
    /// The listener is out of epoll until then (accept rate, or out of descriptors).
    var acceptPausedUntil: Instant?
    var upgrades: UpgradePacer
    var acceptBudget: AcceptBudget
    private(set) var shuttingDown = false
    /// `stopLoop()` was called: the loop ends after this iteration.
    private(set) var stopping = false
    /// Connection count at the last heap trim: after a storm drains, free
    /// memory goes back to the kernel instead of staying in malloc's arenas.
    private var liveAtLastTrim = 0
    /// One more trim this long after the last: what the last connections of
    /// a storm and their drained queues free after it goes back too.
    private var trimAgainAt: Instant?
    static let trimSettle = Nanoseconds.seconds(5)

    /// One read buffer for all connections of this loop: reads are processed
    /// before the next one starts, so nothing outlives a callback.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    var actions: [WebSocketAction] = []

    /// Timeouts are found by one sweep over the loop's connections, not a timer each.
    static let sweepInterval = Nanoseconds.milliseconds(250)

    init(shared: ServerShared, metrics: LoopMetrics, listenFD: Int32) throws(SystemError) {
        self.shared = shared
        self.metrics = metrics
        deadlineRules = ConnectionDeadlines.Rules(config: shared.config)
        loop = try EventLoop()
        inbox = LoopInbox(
            waker: loop.waker, symbolCount: shared.symbols.count, maxPendingTicks: shared.config.overload.maxPendingTicksPerLoop)
        acceptBudget = AcceptBudget(shared.config.overload, loops: shared.config.loops)
        upgrades = UpgradePacer(shared.config.overload)
        pacer = RoundPacer(shared.config.overload)
        hub = LoopHub(symbolCount: shared.symbols.count, settings: shared.config.hub)
        flushes = FlushScheduler(metrics: metrics, policy: shared.config.overload)
        // Room for every connection the server may hold, reserved, not
        // touched: a page becomes resident when a connection first lands on
        // it. Grown by doubling instead, each table was copied at every
        // power of two and the old copies stayed in the heap.
        let most = shared.config.overload.maxConnections + shared.config.overload.overCapacityReserve
        connections.reserveCapacity(most)
        freeSlots.reserveCapacity(most)
        loop.reserveSlots(most + 8)
        let listener = Listener(descriptor: Descriptor(listenFD), worker: nil)
        self.listener = listener
        listener.worker = self
        listener.token = try loop.register(listener.descriptor, events: EpollEvents.readable, handler: listener, priority: true)
        loop.onWake = { [unowned self] in
            // Shutdown first: its 1001s must not wait behind a fan-out round.
            if self.shared.shuttingDown.load(ordering: .relaxed) {
                self.beginShutdown()
                _ = self.inbox.takeAll()
                return
            }
            self.serve()
        }
        // This loop's own ingest (`publishIngest`): one round at the end of
        // the epoll iteration, for every publish read of it.
        loop.afterEvents = { [unowned self] in
            if self.shuttingDown { return }
            self.serve()
        }
        try loop.addRepeatingTimer(every: Self.sweepInterval) { [unowned self] in self.sweep() }
        if shared.config.ioUring { flushes.startSendBatch(capacity: shared.config.ioUringBatch) }
    }

    deinit { readBuffer.deallocate() }

    func forget(_ connection: Connection) {
        if let peer = connection.peer { shared.admission.release(address: peer) }
        if connection.refusal != nil {
            shared.admission.refusedPending.wrappingSubtract(1, ordering: .relaxed)
        } else {
            shared.admission.admittedConnections.wrappingSubtract(1, ordering: .relaxed)
        }
        connections[connection.index] = nil
        freeSlots.append(connection.index)
        liveCount -= 1
        shared.admission.openConnections.wrappingSubtract(1, ordering: .relaxed)
        metrics.connections.wrappingSubtract(1, ordering: .relaxed)
        if shuttingDown && liveCount == 0 { stopLoop() }
    }

    /// Ends the loop after this iteration; nothing more is accepted in it
    /// (a connection adopted now would never be served).
    func stopLoop() {
        stopping = true
        loop.stop()
    }

    /// After the loop's last iteration: anything still open is closed (and
    /// counted out), the listener closes (connections still in its accept
    /// queue are reset by the kernel), and `/livez` stops expecting its sweeps.
    func stopped() {
        for case let connection? in connections { connection.close() }
        if let listener {
            loop.unregister(listener.descriptor, token: listener.token)
            Syscall.close(listener.descriptor)
            self.listener = nil
        }
        metrics.stopped.store(true, ordering: .relaxed)
    }

    /// Writes left over from the last slice go first (oldest data), then a
    /// new round: rounds do not wait for heavy backlogs, which take the new
    /// records into their queue (or conflation slots).
    ///
    /// A round does wait while light connections are still unwritten, up to
    /// `maxRoundDeferral`: one round per pass over them. Without it, with
    /// thousands of subscribed connections (the 15,000-connection storm)
    /// each wake-up spent most of its time on a new round and 5 ms on
    /// writes, a pass took many rounds, and healthy readers saw their ticks
    /// 0.3-1.6 s late while the loop's inbox was never 30 ms behind. The
    /// ticks that arrive meanwhile wait in the inbox, and when the wait
    /// passes `policy.inboxLateness` the loop folds them to the newest per
    /// symbol (declared): under that load every reader gets fresh data
    /// about every 100 ms instead of every tick ever later.
    private func serve() {
        if acceptPausedUntil != nil { resumeAcceptingIfDue(now: Clock.now()) }
        if upgrades.hasParked { unparkSome() }
        _ = flushSome()
        if flushes.hasLightPending, Clock.now() - lastRoundAt < policy.maxRoundDeferral {
            return   // flushSome asked for the next wake-up
        }
        if let next = pacer.earliestNextRound, Clock.now() < next {
            loop.wake(at: next)   // what arrives meanwhile joins that round
            return
        }
        drainInbox()
    }

    // MARK: ingest

    /// Records admitted from `/v1/publish` messages during the current read
    /// (`Connection.handlePublishMessage`), as decoded ticks and as the
    /// publisher's own wire bytes; `publishIngest` sends them as one batch.
    var ingestTicks: [Tick] = []
    var ingestRecords: [UInt8] = []
    /// Ingest batches of this loop waiting for the round at the end of the
    /// epoll iteration (`loop.afterEvents`), oldest first.
    var localBatches: [TickBatch] = []
    var localPostedNanos: UInt64 = 0

    // MARK: fan-out

    /// Runs on every wake-up: publishes everything pending in one round
    /// (loop-level conflated slots first, then the batches, oldest first),
    /// so each connection gets one message, then flushes each touched
    /// connection once.
    private func drainInbox() {
        let taken = inbox.takeAll()
        // This loop's own ingest comes after the inbox: a symbol whose owner
        // moved here from another loop has its older batches in the inbox.
        let local = localBatches
        localBatches.removeAll(keepingCapacity: true)
        guard !taken.isEmpty || !local.isEmpty else { return }
        lastRoundAt = Clock.now()
        roundInFlight = true
        passSendTime = .zero
        let now = lastRoundAt.nanoseconds
        let sendTime = Clock.wallNanos()
        let lag = now &- (taken.isEmpty ? localPostedNanos : taken.oldestPostedNanos)
        metrics.overload.lastRoundLagNanos.store(lag, ordering: .relaxed)
        inbox.behind.store(lag > policy.inboxLateness.rawValue, ordering: .relaxed)
        hub.beginRound(sendTimeNs: sendTime, nowNanos: now)
        var ticks = 0
        if !taken.folded.isEmpty {
            hub.add(shared.broadcast.makeBatch(taken.folded))
            ticks += taken.folded.count
        }
        for batch in taken.batches {
            hub.add(batch)
            ticks += batch.count
        }
        for batch in local {
            hub.add(batch)
            ticks += batch.count
        }
        scheduleFlushes(hub.endRound())
        metrics.overload.lastRoundTicks.store(ticks, ordering: .relaxed)
        _ = flushSome()
        recordLatency(taken.batches, local, folded: taken.folded)
        syncHubMetrics()
    }

    /// One slice of the flush schedule; the rest waits for the next
    /// wake-up (requested here), so requests that arrived meanwhile
    /// (/healthz, handshakes, pongs) are served between slices instead of
    /// after the whole round. True when nothing is left.
    private func flushSome() -> Bool {
        guard flushes.hasPending else {
            finishPass()
            return true
        }
        let start = Clock.now()
        let done = flushes.writeSome()
        passSendTime = passSendTime + (Clock.now() - start)
        if !done {
            loop.waker.wake()
            return false
        }
        finishPass()
        return true
    }

    /// The round's writes are done: the pacer decides when the next may start.
    private func finishPass() {
        guard roundInFlight else { return }
        roundInFlight = false
        let waiting = inbox.oldestPendingNanos.load(ordering: .relaxed) != 0 || !localBatches.isEmpty
        pacer.passFinished(roundBegan: lastRoundAt, sendTime: passSendTime, workWaiting: waiting)
        metrics.overload.roundIntervalNanos.store(pacer.interval(since: lastRoundAt).rawValue, ordering: .relaxed)
    }

    private var reported = HubCounters()

    /// Moves the hub's plain counters into the shared atomics, once per wake-up.
    func syncHubMetrics() {
        let c = hub.counters
        metrics.add(metrics.ticksQueued, c.ticksQueued &- reported.ticksQueued)
        metrics.add(metrics.messagesQueued, c.messagesQueued &- reported.messagesQueued)
        metrics.add(metrics.conflatedUpdates, c.conflatedUpdates &- reported.conflatedUpdates)
        metrics.add(metrics.conflationEpisodes, c.conflationEpisodes &- reported.conflationEpisodes)
        metrics.add(metrics.overload.ticksFolded, c.ticksFolded &- reported.ticksFolded)
        reported = c
        metrics.subscriptions.store(hub.subscriptionCount, ordering: .relaxed)
    }

    // MARK: throttled subscriptions

    /// Interval (ms) → the repeating timer sampling that interval class.
    private var intervalTimers: [Int: Int32] = [:]

    /// After a subscribe: a timer for each interval class that has none. A
    /// class that empties keeps its timer until it next fires (`sample`
    /// then answers nil and the timer goes), at most one interval later.
    func armIntervalTimers() {
        for ms in hub.intervalClasses where intervalTimers[ms] == nil {
            guard let fd = try? loop.addRemovableTimer(intervalNanos: UInt64(ms) * 1_000_000, { [unowned self] in
                self.sampleIntervalClass(ms)
            }) else { continue }
            intervalTimers[ms] = fd
        }
    }

    /// One sample of an interval class: its records go out like a round's,
    /// one message and one flush per touched connection.
    private func sampleIntervalClass(_ ms: Int) {
        if shuttingDown { return }
        guard let touched = hub.sample(intervalMs: ms, sendTimeNs: Clock.wallNanos(), nowNanos: Clock.now().nanoseconds) else {
            if let fd = intervalTimers.removeValue(forKey: ms) { loop.removeTimer(fd) }
            return
        }
        scheduleFlushes(touched)
        _ = flushSome()
        syncHubMetrics()
    }

    /// The connections of the subscribers a round or a sample touched join
    /// the flush schedule (each once).
    private func scheduleFlushes(_ touched: [Subscriber]) {
        for subscriber in touched {
            let outbox = subscriber.outbox
            guard let connection = connections[outbox.ownerIndex] else { continue }
            flushes.schedule(connection, outbox)
        }
    }

    // MARK: timeouts

    private func sweep() {
        let now = Clock.now()
        metrics.lastSweepNanos.store(now.nanoseconds, ordering: .relaxed)
        resumeAcceptingIfDue(now: now)
        if upgrades.hasParked { unparkSome() }
        var queued = 0, allocated = 0
        for case let connection? in connections {
            connection.checkDeadlines(now: now)
            // Without creating an outbox for an idle connection.
            guard let outbox = connection.existingOutbox else { continue }
            queued &+= outbox.count
            allocated &+= outbox.queue.allocatedBytes
        }
        metrics.overload.queuedBytes.store(queued, ordering: .relaxed)
        metrics.overload.queueAllocatedBytes.store(allocated, ordering: .relaxed)
        syncHubMetrics()
        // Many connections gone since the last trim (a quarter of the peak,
        // at least 100: a storm ended): give
        // the freed heap back, so RSS returns near its baseline.
        if liveAtLastTrim - liveCount >= max(100, liveAtLastTrim / 4) {
            // On the loop, after the frees: from another thread it gives back
            // only that thread's arena.
            ProcessStats.trimHeap()
            liveAtLastTrim = liveCount
            trimAgainAt = now + Self.trimSettle
        } else if let again = trimAgainAt, now >= again {
            ProcessStats.trimHeap()
            trimAgainAt = nil
        } else if liveCount > liveAtLastTrim {
            liveAtLastTrim = liveCount
        }
    }

    // MARK: shutdown

    /// Sends close 1001 to every WebSocket, and stops the loop when the last
    /// connection is gone or the drain deadline passes. The listener stays
    /// open until then: probes get their answers (`/readyz` 503), anything
    /// else 503 with `Retry-After` (`Connection.route`).
    func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        let deadline = Clock.now() + policy.drainTimeout
        for case let connection? in connections {
            connection.shutdown(deadline: deadline)
        }
        if liveCount == 0 {
            stopLoop()
            return
        }
        // The 250 ms sweep would find the deadline up to a quarter second
        // late; leftovers are closed within 20 ms of it instead, so the loop
        // stops well before the process watchdog (deadline + 0.4 s).
        try? loop.addRepeatingTimer(every: .milliseconds(20)) { [unowned self] in
            guard Clock.now() >= deadline else { return }
            for case let connection? in connections { connection.close() }
        }
    }
}
