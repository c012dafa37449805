import PosixIO
import Testing
@testable import TickerServer

/// Every timeout of a connection, on made-up instants: no socket, no sleep.
/// The loopback tests (`TimeoutTests`, `SlowConsumerTests`, `ShutdownTests`)
/// check that the connection performs these actions; these check the rules.
@Suite struct ConnectionDeadlinesTests {
    static let rules: ConnectionDeadlines.Rules = {
        var config = ServerConfig()
        config.handshakeTimeoutMs = 10_000
        config.heartbeatIntervalMs = 15_000
        config.pongTimeoutMs = 10_000
        config.closeTimeoutMs = 2_000
        config.overload.slowConsumerTimeout = .seconds(10)
        return ConnectionDeadlines.Rules(config: config)
    }()

    /// Milliseconds after an arbitrary origin.
    static func at(_ ms: UInt64) -> Instant { Instant(nanoseconds: 1_000_000_000_000 + ms * 1_000_000) }

    var rules: ConnectionDeadlines.Rules { Self.rules }
    func at(_ ms: UInt64) -> Instant { Self.at(ms) }

    /// An open WebSocket upgraded at t = 0 whose queue is empty.
    func upgraded() -> ConnectionDeadlines {
        var d = ConnectionDeadlines()
        d.upgraded(at: at(0), rules: rules)
        return d
    }

    // MARK: handshake deadline

    @Test func requestHeadGetsTheWholeHandshakeTimeoutThen408() {
        var d = ConnectionDeadlines()
        let phase = ConnectionDeadlines.Phase.request(acceptedAt: at(0), refused: false)
        #expect(d.check(now: at(9_999), phase: phase, rules: rules) == .none)
        #expect(d.check(now: at(10_000), phase: phase, rules: rules) == .requestTimedOut(limit: .milliseconds(10_000)))
        // The 408 gets the close timeout to be written; then the socket is dropped.
        #expect(d.hardCloseAt == at(12_000))
        #expect(d.check(now: at(11_999), phase: .other, rules: rules) == .none)
        #expect(d.check(now: at(12_000), phase: .other, rules: rules) == .closeTransport)
    }

    @Test func refusedConnectionGetsOneSecondForItsRequest() {
        var d = ConnectionDeadlines()
        let phase = ConnectionDeadlines.Phase.request(acceptedAt: at(0), refused: true)
        #expect(d.check(now: at(999), phase: phase, rules: rules) == .none)
        #expect(d.check(now: at(1_000), phase: phase, rules: rules) == .requestTimedOut(limit: .milliseconds(1_000)))
    }

    @Test func refusedLimitNeverExceedsAShorterHandshakeTimeout() {
        var config = ServerConfig()
        config.handshakeTimeoutMs = 300
        let rules = ConnectionDeadlines.Rules(config: config)
        var d = ConnectionDeadlines()
        let phase = ConnectionDeadlines.Phase.request(acceptedAt: at(0), refused: true)
        #expect(d.check(now: at(300), phase: phase, rules: rules) == .requestTimedOut(limit: .milliseconds(300)))
    }

    // MARK: heartbeat

    @Test func firstPingIsDueOneIntervalAfterTheUpgrade() {
        var d = upgraded()
        #expect(d.check(now: at(14_999), phase: .open(backlogSince: nil), rules: rules) == .none)
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.awaitingPong)
        #expect(d.nextPingAt == at(30_000))
    }

    @Test func answeredPingKeepsTheConnectionAndPingsAgainNextInterval() {
        var d = upgraded()
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        d.peerIsAlive()
        #expect(!d.awaitingPong)
        #expect(d.check(now: at(26_000), phase: .open(backlogSince: nil), rules: rules) == .none)
        #expect(d.check(now: at(30_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
    }

    @Test func unansweredPingClosesWith4002AfterThePongTimeout() {
        var d = upgraded()
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.check(now: at(24_999), phase: .open(backlogSince: nil), rules: rules) == .none)
        #expect(d.check(now: at(25_000), phase: .open(backlogSince: nil), rules: rules) == .closeHeartbeatTimeout)
    }

    /// With an interval shorter than the pong timeout, later pings do not
    /// restart the wait for the first one's answer.
    @Test func laterPingsDoNotExtendThePongWait() {
        var config = ServerConfig()
        config.heartbeatIntervalMs = 300
        config.pongTimeoutMs = 400
        let rules = ConnectionDeadlines.Rules(config: config)
        var d = ConnectionDeadlines()
        d.upgraded(at: at(0), rules: rules)
        #expect(d.check(now: at(300), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.check(now: at(600), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.check(now: at(700), phase: .open(backlogSince: nil), rules: rules) == .closeHeartbeatTimeout)
    }

    /// Any inbound bytes count as an answer (`peerIsAlive`), not only a pong.
    @Test func inboundBytesClearThePongWait() {
        var d = upgraded()
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        d.peerIsAlive()
        #expect(d.check(now: at(25_000), phase: .open(backlogSince: nil), rules: rules) == .none)
    }

    /// Heartbeats never punish a backlog the server itself queued: while our
    /// queue is not empty the pong wait starts over each sweep.
    @Test func backlogDefersThePongTimeout() {
        var d = upgraded()
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        // Ticks queue up behind the ping from t = 16 s; the queue empties at t = 24 s.
        for t in stride(from: UInt64(16_000), through: 24_000, by: 250) {
            #expect(d.check(now: at(t), phase: .open(backlogSince: at(16_000)), rules: rules) == .none)
        }
        #expect(d.pingSentAt == at(24_000))
        // The next interval's ping goes out; the wait still counts from t = 24 s.
        #expect(d.check(now: at(30_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.check(now: at(33_999), phase: .open(backlogSince: nil), rules: rules) == .none)
        #expect(d.check(now: at(34_000), phase: .open(backlogSince: nil), rules: rules) == .closeHeartbeatTimeout)
    }

    // MARK: slow consumer

    @Test func queueThatNeverEmptiesClosesWith4001AtTheDeadline() {
        var d = upgraded()
        let stuck = ConnectionDeadlines.Phase.open(backlogSince: at(1_000))
        #expect(d.check(now: at(10_999), phase: stuck, rules: rules) == .none)
        #expect(d.check(now: at(11_000), phase: stuck, rules: rules) == .closeSlowConsumer)
    }

    /// The slow-consumer rule comes before a due ping and a pending pong timeout.
    @Test func slowConsumerRuleComesFirst() {
        var d = upgraded()
        #expect(d.check(now: at(15_000), phase: .open(backlogSince: nil), rules: rules) == .sendPing)
        #expect(d.check(now: at(40_000), phase: .open(backlogSince: at(20_000)), rules: rules) == .closeSlowConsumer)
    }

    // MARK: close handshake and shutdown

    @Test func closeHandshakeGetsTheCloseTimeout() {
        var d = upgraded()
        d.closeHandshakeStarted(at: at(5_000), rules: rules)
        #expect(d.check(now: at(6_999), phase: .other, rules: rules) == .none)
        #expect(d.check(now: at(7_000), phase: .other, rules: rules) == .closeTransport)
    }

    /// The hard deadline applies in every phase, before any other rule.
    @Test func hardDeadlineWinsOverEveryOtherRule() {
        var d = upgraded()
        d.closeHandshakeStarted(at: at(14_000), rules: rules)
        #expect(d.check(now: at(16_000), phase: .open(backlogSince: nil), rules: rules) == .closeTransport)
    }

    /// A later close does not push an earlier deadline back, nor does shutdown.
    @Test func deadlinesOnlyMoveEarlier() {
        var d = upgraded()
        d.shutdown(deadline: at(3_000))
        d.closeHandshakeStarted(at: at(2_000), rules: rules)
        #expect(d.hardCloseAt == at(3_000))
        d.shutdown(deadline: at(2_500))
        #expect(d.hardCloseAt == at(2_500))
        #expect(d.check(now: at(2_500), phase: .other, rules: rules) == .closeTransport)
    }

    @Test func shutdownDeadlineDropsAConnectionStillInItsHandshake() {
        var d = ConnectionDeadlines()
        d.shutdown(deadline: at(2_000))
        let phase = ConnectionDeadlines.Phase.request(acceptedAt: at(0), refused: false)
        #expect(d.check(now: at(2_000), phase: phase, rules: rules) == .closeTransport)
    }

    // MARK: time types

    @Test func instantArithmeticSaturates() {
        #expect(Instant.never + .milliseconds(5) == .never)
        #expect(at(1) - at(2) == .zero)
        #expect(at(2) - at(1) == .milliseconds(1))
        #expect(Nanoseconds.milliseconds(-1) == .zero)
    }
}
