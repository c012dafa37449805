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
    /// The connections' timeouts, from `config`.
    let deadlineRules: ConnectionDeadlines.Rules

    var listener: Listener?
    var connections: [Connection?] = []
    var freeSlots: [Int] = []
    var liveCount = 0
    /// Connections with something to write, in the order they got it, in
    /// two classes: light ones (a small queue: a few symbols, or a client
    /// that keeps up) are flushed before heavy ones (a big backlog), so a
    /// one-symbol client never waits behind a crowd of full-universe
    /// readers. Light writes are cheap, so serving them first costs the
    /// heavy ones little (shortest job first); the heavy ones fall behind
    /// into conflation, which is their rule anyway.
    private var dirtyLight: [Connection] = []
    private var dirty: [Connection] = []
    /// How many of `dirtyLight` / `dirty` have been flushed so far.
    private var flushedLight = 0
    private var flushed = 0
    /// A queue at most this long after a round counts as light.
    static let lightQueueBytes = 16 * 1024
    /// A loop's run without looking at its sockets is at most about this:
    /// ingest, handshakes and the other loop's batches wait no longer for a
    /// pass over thousands of sockets. With 5 ms, `TickerBench m1`/`m3`
    /// spent about a quarter more server CPU at the same latency (ARCHITECTURE).
    static let flushSlice = Nanoseconds.milliseconds(1)
    /// A round waits while light connections of earlier rounds are still
    /// unwritten, up to this long after the last round began (see `serve`).
    static let maxRoundDeferral = Nanoseconds.milliseconds(100)
    /// When the last fan-out round began.
    private var lastRoundAt = Instant(nanoseconds: 0)
    /// A round's writes are under way; `pacer` hears when they end.
    private var roundInFlight = false
    /// When the next round may start (see `RoundPacer`).
    private var pacer = RoundPacer()
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
    let writer = VectoredWriter()
    /// The loop's io_uring for flushing many connections with one syscall
    /// (`--io-uring on`); nil: one `sendmsg` per connection.
    var sendBatch: SendBatch?
    /// Where the batch in flight's connections are in the list being flushed,
    /// by slot (indices: no reference counting per connection per batch).
    var batchMembers: [Int] = []
    var actions: [WebSocketAction] = []

    /// Timeouts are found by one sweep over the loop's connections, not a timer each.
    static let sweepInterval = Nanoseconds.milliseconds(250)

    init(shared: ServerShared, metrics: LoopMetrics, listenFD: Int32) throws(SystemError) {
        self.shared = shared
        self.metrics = metrics
        deadlineRules = ConnectionDeadlines.Rules(config: shared.config)
        loop = try EventLoop()
        inbox = LoopInbox(
            waker: loop.waker, symbolCount: shared.symbols.count, maxPendingTicks: shared.config.maxPendingTicksPerLoop)
        acceptBudget = AcceptBudget(perSecond: shared.config.acceptsPerSecond / max(1, shared.config.loops))
        upgrades = UpgradePacer(perWindow: shared.config.upgradesPerWindow)
        hub = LoopHub(symbolCount: shared.symbols.count, settings: shared.config.hub, framing: .webSocket)
        // Room for every connection the server may hold, reserved, not
        // touched: a page becomes resident when a connection first lands on
        // it. Grown by doubling instead, each table was copied at every
        // power of two and the old copies stayed in the heap, ~60 bytes per
        // idle connection at 10,000 (S3).
        let most = shared.config.maxConnections + shared.config.overCapacityReserve
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
        if shared.config.ioUring { startSendBatch() }
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
    /// passes `LoopInbox.behindNanos` the loop folds them to the newest per
    /// symbol (declared): under that load every reader gets fresh data
    /// about every 100 ms instead of every tick ever later.
    private func serve() {
        if acceptPausedUntil != nil { resumeAcceptingIfDue(now: Clock.now()) }
        if upgrades.hasParked { unparkSome() }
        _ = flushSome()
        if flushedLight < dirtyLight.count, Clock.now() - lastRoundAt < Self.maxRoundDeferral {
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
        inbox.behind.store(lag > LoopInbox.behindNanos, ordering: .relaxed)
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
        for subscriber in hub.endRound() {
            guard let connection = connections[subscriber.ownerIndex] else { continue }
            // Its socket is full: the kernel's EPOLLOUT flushes it once the
            // peer has read, so a round does not spend a write on it.
            if connection.transport.wantsWritable { continue }
            if !connection.isDirty {
                connection.isDirty = true
                if subscriber.outbound.count <= Self.lightQueueBytes {
                    dirtyLight.append(connection)
                } else {
                    dirty.append(connection)
                }
            }
        }
        metrics.overload.lastRoundTicks.store(ticks, ordering: .relaxed)
        _ = flushSome()
        recordLatency(taken.batches, local, folded: taken.folded)
        syncHubMetrics()
    }

    /// Flushes touched connections in order for at most `flushSlice`;
    /// the rest wait for the next wake-up (requested here), so requests that
    /// arrived meanwhile (/healthz, handshakes, pongs) are served between
    /// slices instead of after the whole round. True when nothing is left.
    private func flushSome() -> Bool {
        guard flushedLight < dirtyLight.count || flushed < dirty.count else {
            finishPass()
            return true
        }
        let start = Clock.now()
        let deadline = start + Self.flushSlice
        // Light first; heavy only once every light one is written. Heavy
        // writes are long (a big backlog each): smaller chunks keep the slice.
        if flush(&dirtyLight, from: &flushedLight, until: deadline, chunk: sendBatch?.capacity ?? 32) {
            _ = flush(&dirty, from: &flushed, until: deadline, chunk: min(8, sendBatch?.capacity ?? 8))
        }
        passSendTime = passSendTime + (Clock.now() - start)
        if flushedLight < dirtyLight.count || flushed < dirty.count {
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

    /// Flushes `list` from `next` until the deadline, `chunk` connections
    /// at a time: one `io_uring_enter` per chunk when the loop has a ring
    /// (`sendBatched`), else one `sendmsg` each; the clock is read after each
    /// chunk. True, with the list emptied, when all of it was written.
    private func flush(_ list: inout [Connection], from next: inout Int, until deadline: Instant, chunk: Int) -> Bool {
        while next < list.count {
            let end = min(list.count, next + chunk)
            if let batch = sendBatch {
                sendBatched(&list, from: &next, to: end, batch: batch)
            } else {
                while next < end {
                    let connection = list[next]
                    next += 1
                    connection.isDirty = false
                    connection.flush()
                }
            }
            if next < list.count && Clock.now() >= deadline { return false }
        }
        list.removeAll(keepingCapacity: true)
        next = 0
        return true
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

    // MARK: timeouts

    private func sweep() {
        let now = Clock.now()
        metrics.lastSweepNanos.store(now.nanoseconds, ordering: .relaxed)
        resumeAcceptingIfDue(now: now)
        if upgrades.hasParked { unparkSome() }
        var queued = 0, allocated = 0
        for case let connection? in connections {
            connection.checkDeadlines(now: now)
            // Without creating a subscriber (and queue) for an idle connection.
            guard let outbound = connection.existingSubscriber?.outbound else { continue }
            queued &+= outbound.count
            allocated &+= outbound.allocatedBytes
        }
        metrics.overload.queuedBytes.store(queued, ordering: .relaxed)
        metrics.overload.queueAllocatedBytes.store(allocated, ordering: .relaxed)
        syncHubMetrics()
        // Many connections gone since the last trim (a quarter of the peak,
        // at least 100: a storm ended): give
        // the freed heap back, so RSS returns near its baseline.
        if liveAtLastTrim - liveCount >= max(100, liveAtLastTrim / 4) {
            // On the loop, after the frees: run from another thread it left
            // 47 MiB against 28 MiB after the full storm (measured).
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
        let deadline = Clock.now() + .milliseconds(config.drainTimeoutMs)
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
