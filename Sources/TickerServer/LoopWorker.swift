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

    private var listener: Listener?
    private(set) var connections: [Connection?] = []
    private var freeSlots: [Int] = []
    private(set) var liveCount = 0
    private var dirty: [Connection] = []
    private var acceptPausedUntil: UInt64 = 0
    private var shuttingDown = false

    /// One read buffer for all connections of this loop: reads are processed
    /// before the next one starts, so nothing outlives a callback.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    let writer = VectoredWriter()
    var actions: [WebSocketAction] = []

    /// Timeouts are found by one sweep over the loop's connections, not a timer each.
    static let sweepIntervalNanos: UInt64 = 250_000_000

    init(shared: ServerShared, metrics: LoopMetrics, listenFD: Int32) throws(SystemError) {
        self.shared = shared
        self.metrics = metrics
        loop = try EventLoop()
        inbox = LoopInbox(waker: loop.waker)
        hub = LoopHub(symbolCount: shared.symbols.count, settings: shared.config.hub)
        let listener = Listener(fd: listenFD, worker: nil)
        self.listener = listener
        listener.worker = self
        listener.token = try loop.register(fd: listenFD, events: EpollEvents.readable, handler: listener)
        loop.onWake = { [unowned self] in
            self.drainInbox()
            if self.shared.shuttingDown.load(ordering: .relaxed) { self.beginShutdown() }
        }
        try loop.addRepeatingTimer(intervalNanos: Self.sweepIntervalNanos) { [unowned self] in self.sweep() }
    }

    deinit { readBuffer.deallocate() }

    // MARK: accepting

    func acceptReady(_ listener: Listener) {
        for _ in 0..<256 {
            let fd: Int32
            do {
                guard let accepted = try Syscall.accept(listener.fd) else { return }
                fd = accepted
            } catch {
                if error.isDescriptorExhaustion {
                    pauseAccepting(listener, reason: error)
                } else {
                    Log.warning("accept failed: \(error)")
                }
                return
            }
            adopt(fd)
        }
    }

    /// Out of descriptors: stop asking epoll about the listener for one sweep
    /// instead of spinning on an accept that keeps failing.
    private func pauseAccepting(_ listener: Listener, reason: SystemError) {
        metrics.add(metrics.acceptBackoffs)
        acceptPausedUntil = Clock.monotonicNanos() + Self.sweepIntervalNanos
        try? loop.modify(fd: listener.fd, token: listener.token, events: 0)
        Log.warning("\(reason); pausing accept for \(Self.sweepIntervalNanos / 1_000_000) ms")
    }

    private func adopt(_ fd: Int32) {
        metrics.add(metrics.accepted)
        if shared.openConnections.load(ordering: .relaxed) >= config.maxConnections || shuttingDown {
            metrics.add(metrics.rejectedOverCapacity)
            Syscall.close(fd)
            return
        }
        Syscall.setNoDelay(fd)
        if let bytes = config.socketSendBufferBytes { Syscall.setSendBuffer(fd, bytes: bytes) }
        let index: Int
        if let free = freeSlots.popLast() { index = free } else {
            index = connections.count
            connections.append(nil)
        }
        let connection = Connection(fd: fd, index: index, worker: self)
        do {
            connection.token = try loop.register(
                fd: fd, events: EpollEvents.readable | EpollEvents.readHangUp, handler: connection)
        } catch {
            Log.warning("cannot register connection: \(error)")
            Syscall.close(fd)
            freeSlots.append(index)
            return
        }
        connections[index] = connection
        liveCount += 1
        shared.openConnections.wrappingAdd(1, ordering: .relaxed)
        metrics.connections.wrappingAdd(1, ordering: .relaxed)
    }

    func forget(_ connection: Connection) {
        connections[connection.index] = nil
        freeSlots.append(connection.index)
        liveCount -= 1
        shared.openConnections.wrappingSubtract(1, ordering: .relaxed)
        metrics.connections.wrappingSubtract(1, ordering: .relaxed)
        if shuttingDown && liveCount == 0 { loop.stop() }
    }

    // MARK: fan-out

    /// Runs on every wake-up: publishes each pending batch into the hub,
    /// then flushes every touched connection once.
    private func drainInbox() {
        let batches = inbox.takeAll()
        guard !batches.isEmpty else { return }
        let now = Clock.monotonicNanos()
        let sendTime = Clock.wallNanos()
        for batch in batches {
            for subscriber in hub.publish(batch, sendTimeNs: sendTime, nowNanos: now) {
                guard let connection = connections[subscriber.ownerIndex] else { continue }
                if !connection.isDirty {
                    connection.isDirty = true
                    dirty.append(connection)
                }
            }
        }
        for connection in dirty {
            connection.isDirty = false
            connection.flush()
        }
        dirty.removeAll(keepingCapacity: true)
        syncHubMetrics()
    }

    private var reported = HubCounters()

    /// Moves the hub's plain counters into the shared atomics, once per wake-up.
    func syncHubMetrics() {
        let c = hub.counters
        metrics.add(metrics.ticksQueued, c.ticksQueued &- reported.ticksQueued)
        metrics.add(metrics.messagesQueued, c.messagesQueued &- reported.messagesQueued)
        metrics.add(metrics.conflatedUpdates, c.conflatedUpdates &- reported.conflatedUpdates)
        metrics.add(metrics.conflationEpisodes, c.conflationEpisodes &- reported.conflationEpisodes)
        reported = c
        metrics.subscriptions.store(hub.subscriptionCount, ordering: .relaxed)
    }

    // MARK: timeouts

    private func sweep() {
        let now = Clock.monotonicNanos()
        if acceptPausedUntil != 0 && now >= acceptPausedUntil, let listener {
            acceptPausedUntil = 0
            try? loop.modify(fd: listener.fd, token: listener.token, events: EpollEvents.readable)
        }
        for case let connection? in connections {
            connection.checkDeadlines(now: now)
        }
        syncHubMetrics()
    }

    // MARK: shutdown

    /// Stops accepting, sends close 1001 to every WebSocket, and stops the
    /// loop when the last connection is gone or the drain deadline passes.
    func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        if let listener {
            loop.unregister(fd: listener.fd, token: listener.token)
            Syscall.close(listener.fd)
            self.listener = nil
        }
        let deadline = Clock.monotonicNanos() + UInt64(config.drainTimeoutMs) * 1_000_000
        for case let connection? in connections {
            connection.shutdown(deadline: deadline)
        }
        if liveCount == 0 { loop.stop() }
    }
}

/// The listening socket of one loop (SO_REUSEPORT: the kernel spreads
/// connections across the loops' listeners).
final class Listener: EventHandler {
    let fd: Int32
    var token = EventToken.none
    weak var worker: LoopWorker?

    init(fd: Int32, worker: LoopWorker?) {
        self.fd = fd
        self.worker = worker
    }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        worker?.acceptReady(self)
    }
}
