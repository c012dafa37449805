import HTTP
import PosixIO
import WebSocketProtocol

/// Where a connection stands: one enum, so no combination of flags can
/// describe a state that does not exist. The WebSocket state machine `ws`
/// keeps the protocol's own view (open, closing) inside `.webSocket`.
extension Connection {
    enum Phase {
        /// Reading the HTTP request head. Boxed: its parser is freed with the
        /// phase, so an upgraded connection does not carry it.
        case request(PendingRequest)
        /// An upgrade read and validated but not yet performed: past the
        /// loop's upgrade pace (`UpgradePacer`) it waits its turn with its
        /// socket quiet, so a connect burst's handshakes never delay
        /// `/healthz` or `/metrics`. The request head and its parser are
        /// freed by then: a parked upgrade holds ~100 bytes, not a head's ~1 KiB.
        case parked(ParkedUpgrade)
        /// Frames both ways. `closeQueued`: our close frame is queued, so no
        /// data frame may follow it; until then a message read before a
        /// protocol failure in the same read still gets its reply, ahead of
        /// the close frame.
        case webSocket(Route, closeQueued: Bool)
        /// Everything left to say is queued (a one-shot HTTP answer, or the
        /// last frame of a closing handshake): close once it is written.
        /// `route`: the WebSocket it was, nil for plain HTTP.
        case finishing(Route?)
        case closed
    }

    enum Route {
        case stream, echo, publish

        /// What a peer on this route may send in one frame and one message.
        func limits(_ config: ServerConfig) -> WebSocketLimits {
            switch self {
            case .stream:
                // 64 fragments: a control message is one small JSON text, so a client
                // that needs more is flooding (close 1008); the size bounds the message.
                WebSocketLimits(
                    maxFrameSize: config.maxInboundMessageBytes, maxMessageSize: config.maxInboundMessageBytes,
                    maxFragments: 64)
            case .echo:
                .echoConformance
            case .publish:
                WebSocketLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxFragments: 1024)
            }
        }
    }

    /// What a parked upgrade needs to be performed later.
    final class ParkedUpgrade {
        /// `Sec-WebSocket-Accept`, computed when the request was validated.
        let accept: String
        let query: String?
        let route: Route
        /// The request head's deadline still applies while it waits.
        let acceptedAt: Instant
        /// Frames sent right behind the upgrade wait with it.
        var leftover: [UInt8]

        init(accept: String, query: String?, route: Route, acceptedAt: Instant, leftover: [UInt8]) {
            self.accept = accept
            self.query = query
            self.route = route
            self.acceptedAt = acceptedAt
            self.leftover = leftover
        }
    }

    /// Why a request gets a retryable refusal instead of its answer; a
    /// connection holds `capacity` or `perAddress` from its accept on,
    /// `draining` applies to every request once shutdown began.
    enum Refusal { case capacity, perAddress, draining }

    var isClosed: Bool { if case .closed = phase { true } else { false } }
    /// Close as soon as the queue is written.
    var isFinishing: Bool { if case .finishing = phase { true } else { false } }
    /// The WebSocket route, while the connection is (or was, finishing) one.
    var webSocketRoute: Route? {
        switch phase {
        case .webSocket(let route, _): route
        case .finishing(let route): route
        case .request, .parked, .closed: nil
        }
    }
}

/// The state of a connection still reading its request head.
final class PendingRequest {
    var parser: HTTPRequestParser
    /// The request head must be complete by acceptedAt + handshake timeout.
    let acceptedAt: Instant

    init(parser: HTTPRequestParser, acceptedAt: Instant) {
        self.parser = parser
        self.acceptedAt = acceptedAt
    }
}
