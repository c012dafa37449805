import PosixIO

/// Time on a connection: the 250 ms sweep's timeouts (handshake, heartbeat,
/// slow consumer, close handshake), decided by `ConnectionDeadlines`, and
/// the shutdown drain.
extension Connection {
    /// One sweep: performs whatever `deadlines` says is due at `now`.
    func checkDeadlines(now: Instant) {
        let timing: ConnectionDeadlines.Phase
        switch phase {
        case .request(let pending):
            timing = .request(acceptedAt: pending.acceptedAt, refused: refusal != nil)
        case .parked(let upgrade):
            timing = .request(acceptedAt: upgrade.acceptedAt, refused: false)
        case .webSocket where ws.state == .open:
            if grant != nil && !checkGrant() { return }
            releaseIdleOutput()
            let since = existingOutbox?.backlogSinceNanos ?? 0
            timing = .open(backlogSince: since == 0 ? nil : Instant(nanoseconds: since))
        case .webSocket, .finishing, .closed:
            timing = .other
        }
        switch deadlines.check(now: now, phase: timing, rules: worker.deadlineRules) {
        case .none:
            return
        case .closeTransport:
            close()
        case .requestTimedOut(let limit):
            worker.metrics.add(worker.metrics.handshakeTimeouts)
            respond(status: 408, text: "request head not received within \(limit.milliseconds) ms")
        case .closeSlowConsumer:
            worker.metrics.add(worker.metrics.slowConsumerCloses)
            closeNext(.slowConsumer, reason: "slow consumer")
        case .closeHeartbeatTimeout:
            worker.metrics.add(worker.metrics.heartbeatTimeouts)
            startClose(.heartbeatTimeout, reason: "no pong")
        case .sendPing:
            send(.ping, [])
            flush()
        }
    }

    func shutdown(deadline: Instant) {
        deadlines.shutdown(deadline: deadline)
        switch phase {
        case .webSocket:
            if ws.state == .open { closeNext(.goingAway, reason: "server shutting down") }
        case .parked:
            close()
        case .request, .finishing, .closed:
            // A request still arriving is answered (a probe gets its answer,
            // anything else 503) or closed at the drain deadline.
            return
        }
    }
}
