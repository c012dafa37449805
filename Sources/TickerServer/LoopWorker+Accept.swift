import FanoutHub
import MarketData
import PosixIO
import WebSocketProtocol

/// Accepting connections (at the accept budget's pace) and pacing their
/// upgrades (`UpgradePacer`).
extension LoopWorker {
    // MARK: accepting

    func acceptReady(_ listener: Listener) {
        for _ in 0..<256 where !stopping {
            guard acceptBudget.take(now: Clock.now()) else {
                // Over the accept rate: leave the rest in the listen backlog
                // until the budget has refilled a little.
                metrics.add(metrics.acceptBackoffs)
                pauseListener(listener, for: acceptBudget.timeUntil(tokens: 64))
                return
            }
            let accepted: Descriptor
            do {
                guard let descriptor = try Syscall.accept(listener.descriptor) else { return }
                accepted = descriptor
            } catch {
                if error.isDescriptorExhaustion {
                    pauseAccepting(listener, reason: error)
                } else {
                    Log.warning("accept failed: \(error)")
                }
                return
            }
            adopt(accepted)
        }
    }

    /// Out of descriptors: stop asking epoll about the listener for one sweep
    /// instead of spinning on an accept that keeps failing.
    func pauseAccepting(_ listener: Listener, reason: SystemError) {
        metrics.add(metrics.acceptBackoffs)
        pauseListener(listener, for: Self.sweepInterval)
        Log.warning("\(reason); pausing accept for \(Self.sweepInterval.milliseconds) ms")
    }

    /// Stops asking epoll about the listener for `duration`. Over the
    /// accept rate that is the few milliseconds the budget needs to refill,
    /// checked on every wake-up (`resumeAcceptingIfDue`): a pause until the
    /// next sweep (up to 500 ms) let a connect burst overflow the kernel's
    /// accept queue, which then drops SYNs — a `/healthz` probe's among
    /// them, which the client only retries after a second (nstat
    /// ListenOverflows).
    func pauseListener(_ listener: Listener, for duration: Nanoseconds) {
        acceptPausedUntil = Clock.now() + duration
        try? loop.modify(listener.descriptor, token: listener.token, events: 0)
    }

    func resumeAcceptingIfDue(now: Instant) {
        if let until = acceptPausedUntil, now >= until, let listener {
            acceptPausedUntil = nil
            try? loop.modify(listener.descriptor, token: listener.token, events: EpollEvents.readable)
        }
    }

    func adopt(_ fd: Descriptor) {
        metrics.add(metrics.accepted)
        let open = shared.admission.openConnections.load(ordering: .relaxed)
        if open >= policy.maxConnections + policy.overCapacityReserve {
            // Nothing left to answer with: the descriptors past the reserve
            // are what /healthz and /metrics would need.
            metrics.add(metrics.rejectedOverCapacity)
            metrics.overload.countRejected("reserve_exhausted")
            Syscall.close(fd)
            return
        }
        // Past max-connections, or past the per-address limit, the request is
        // still read, so the answer is a status with Retry-After (or
        // /healthz, /metrics) rather than a reset.
        var refusal: Connection.Refusal?
        if shared.admission.admittedConnections.wrappingAdd(1, ordering: .relaxed).oldValue >= policy.maxConnections {
            shared.admission.admittedConnections.wrappingSubtract(1, ordering: .relaxed)
            refusal = .capacity
        }
        var peer = Syscall.peerAddress(fd)
        if let address = peer, !config.trustedProxies.isEmpty, config.trustedProxies.trusts(IPAddress.bytes(key: address)) {
            // A trusted proxy: its client is counted at the upgrade (`Connection.admitForwardedClient`).
            peer = nil
        }
        if refusal == nil, let address = peer, !shared.admission.admit(address: address) {
            shared.admission.admittedConnections.wrappingSubtract(1, ordering: .relaxed)
            refusal = .perAddress
        }
        if refusal != nil {
            peer = nil
            // Refusals hold at most the reserve, so a flood of them cannot
            // crowd out the slots admitted clients need.
            if shared.admission.refusedPending.wrappingAdd(1, ordering: .relaxed).oldValue >= policy.overCapacityReserve {
                shared.admission.refusedPending.wrappingSubtract(1, ordering: .relaxed)
                metrics.add(metrics.rejectedOverCapacity)
                metrics.overload.countRejected("reserve_exhausted")
                Syscall.close(fd)
                return
            }
        }
        Syscall.setNoDelay(fd)
        if let bytes = config.socketSendBufferBytes { Syscall.setSendBuffer(fd, bytes: bytes) }
        if policy.notSentLowWaterBytes > 0 { Syscall.setNotSentLowWater(fd, bytes: policy.notSentLowWaterBytes) }
        let index: Int
        if let free = freeSlots.popLast() { index = free } else {
            index = connections.count
            connections.append(nil)
        }
        let connection = Connection(descriptor: fd, index: index, worker: self)
        connection.peer = peer
        connection.refusal = refusal
        do {
            try connection.transport.register(on: loop, handler: connection)
        } catch {
            Log.warning("cannot register connection: \(error)")
            if let peer { shared.admission.release(address: peer) }
            if refusal != nil {
                shared.admission.refusedPending.wrappingSubtract(1, ordering: .relaxed)
            } else {
                shared.admission.admittedConnections.wrappingSubtract(1, ordering: .relaxed)
            }
            Syscall.close(fd)
            freeSlots.append(index)
            return
        }
        connections[index] = connection
        liveCount += 1
        shared.admission.openConnections.wrappingAdd(1, ordering: .relaxed)
        metrics.connections.wrappingAdd(1, ordering: .relaxed)
        // A client usually sends its request right after connecting, so it is
        // often here already: answering now saves a trip through epoll (and
        // a fan-out slice) — what keeps /healthz prompt on a busy loop.
        connection.handleEvents(EpollEvents.readable, loop: loop)
    }

    // MARK: upgrade pacing (`UpgradePacer`)

    func shouldParkUpgrade() -> Bool { upgrades.shouldPark(now: Clock.now()) }

    func park(_ connection: Connection) {
        metrics.add(metrics.upgradesParked)
        upgrades.park(connection)
        loop.requestAfterEvents()
    }

    /// Performs parked upgrades in arrival order while the pace allows;
    /// comes back after the next iteration's events if more wait.
    func unparkSome() {
        let now = Clock.now()
        while let connection = upgrades.nextDue(now: now) { connection.resumeParkedUpgrade() }
        if upgrades.hasParked { loop.waker.wake() }
    }
}
