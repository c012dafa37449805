import PosixIO

/// The timing rules of one connection, as a value with an injected clock:
/// the connection reports what happened (upgraded, the peer sent bytes, our
/// close frame went out, shutdown began) and, once per sweep, asks what is
/// due at `now`. Nothing here reads a clock or touches a socket, so every
/// timeout is a unit test with made-up instants (`ConnectionDeadlinesTests`),
/// and the connection only performs the action it gets back.
///
/// 24 bytes: it lives in every connection, so idle memory counts its fields.
struct ConnectionDeadlines {
    /// The limits, from the server's settings; one copy per loop, passed in.
    struct Rules {
        /// The whole request head must arrive within this of the accept (slowloris).
        var handshakeTimeout: Nanoseconds
        /// A connection accepted only to be refused (503/429) gets at most this.
        var refusedHandshakeTimeout: Nanoseconds
        var heartbeatInterval: Nanoseconds
        /// A ping unanswered this long (with nothing of ours queued ahead of it) ends the connection.
        var pongTimeout: Nanoseconds
        /// After our close frame (or a 408), the peer has this long before the socket is dropped.
        var closeTimeout: Nanoseconds
        /// `OverloadPolicy.slowConsumerTimeout`.
        var slowConsumerTimeout: Nanoseconds

        init(config: ServerConfig) {
            handshakeTimeout = .milliseconds(config.handshakeTimeoutMs)
            refusedHandshakeTimeout = min(config.overload.refusedHandshakeTimeout, .milliseconds(config.handshakeTimeoutMs))
            heartbeatInterval = .milliseconds(config.heartbeatIntervalMs)
            pongTimeout = .milliseconds(config.pongTimeoutMs)
            closeTimeout = .milliseconds(config.closeTimeoutMs)
            slowConsumerTimeout = config.overload.slowConsumerTimeout
        }
    }

    /// What the connection is doing, as far as timing goes.
    enum Phase {
        /// Reading its request head since `acceptedAt`.
        case request(acceptedAt: Instant, refused: Bool)
        /// An open WebSocket; `backlogSince`: our queue has not been empty
        /// since then (nil: it was empty at the last flush).
        case open(backlogSince: Instant?)
        /// Answering once over HTTP, or closing: only the hard deadline applies.
        case other
    }

    enum Action: Equatable {
        case none
        /// A hard deadline passed (close handshake, 408, shutdown drain): drop the socket now.
        case closeTransport
        /// The request head did not arrive within `limit`: answer 408. The
        /// hard deadline is now set to the close timeout after it.
        case requestTimedOut(limit: Nanoseconds)
        /// Send a ping.
        case sendPing
        /// The ping went unanswered: close with 4002.
        case closeHeartbeatTimeout
        /// The queue has not emptied for the slow-consumer timeout: close with 4001, sent next.
        case closeSlowConsumer
    }

    /// The socket is dropped outright at this instant.
    private(set) var hardCloseAt = Instant.never
    private(set) var nextPingAt = Instant.never
    /// When the unanswered ping went out (or the pong wait restarted); `never`: none outstanding.
    private(set) var pingSentAt = Instant.never

    var awaitingPong: Bool { pingSentAt != .never }

    /// The connection became a WebSocket: the first ping is due one interval later.
    mutating func upgraded(at now: Instant, rules: Rules) {
        nextPingAt = now + rules.heartbeatInterval
    }

    /// Any bytes from the peer prove it is alive, as a pong would.
    mutating func peerIsAlive() {
        pingSentAt = .never
    }

    /// Our close frame is out: the peer has the close timeout to answer.
    mutating func closeHandshakeStarted(at now: Instant, rules: Rules) {
        hardCloseAt = min(hardCloseAt, now + rules.closeTimeout)
    }

    /// Shutdown: whatever is left at `deadline` is dropped.
    mutating func shutdown(deadline: Instant) {
        hardCloseAt = min(hardCloseAt, deadline)
    }

    /// What is due at `now`; at most one action per call (one sweep).
    mutating func check(now: Instant, phase: Phase, rules: Rules) -> Action {
        if now >= hardCloseAt { return .closeTransport }
        switch phase {
        case .request(let acceptedAt, let refused):
            let limit = refused ? min(rules.refusedHandshakeTimeout, rules.handshakeTimeout) : rules.handshakeTimeout
            guard now - acceptedAt >= limit else { return .none }
            hardCloseAt = min(hardCloseAt, now + rules.closeTimeout)
            return .requestTimedOut(limit: limit)
        case .open(let backlogSince):
            if let backlogSince, now - backlogSince >= rules.slowConsumerTimeout {
                // Its queue has not emptied for the whole deadline, conflated
                // or not: it has stopped reading (or reads far too slowly).
                return .closeSlowConsumer
            }
            if awaitingPong, backlogSince != nil {
                // A ping stuck behind a backlog we queued is not the peer's
                // fault: the pong wait starts over once our queue empties
                // (the slow-consumer rule covers a peer that does not read).
                pingSentAt = now
                return .none
            }
            if awaitingPong, now - pingSentAt >= rules.pongTimeout { return .closeHeartbeatTimeout }
            if now >= nextPingAt {
                nextPingAt = now + rules.heartbeatInterval
                // A later ping does not restart the wait for the first one's answer.
                if !awaitingPong { pingSentAt = now }
                return .sendPing
            }
            return .none
        case .other:
            return .none
        }
    }
}
