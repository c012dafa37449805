import FanoutHub
import PosixIO
import WebSocketProtocol

/// Frames in, actions out: what the WebSocket state machine returns is
/// performed here, in order, and data messages go to the route's handler.
extension Connection {
    func receiveFrames(_ bytes: UnsafeRawBufferPointer) {
        deadlines.peerIsAlive()
        var actions = worker.actions
        worker.actions = []
        actions.removeAll(keepingCapacity: true)
        let alreadyFailed = ws.failure != nil
        ws.receive(bytes, into: &actions)
        if !alreadyFailed, let failure = ws.failure {
            worker.metrics.add(worker.metrics.protocolErrors)
            worker.metrics.overload.countClose(failure.closeCode.rawValue)
            Log.debug("\(descriptor): protocol error \(failure), closing with \(failure.closeCode)", ["client": clientText])
        }
        perform(actions)
        actions.removeAll(keepingCapacity: true)
        worker.actions = actions
        // `/v1/publish`: the messages of this read leave as one batch.
        worker.publishIngest()
        flush()
    }

    /// Performs what the state machine returned, in order.
    func perform(_ actions: [WebSocketAction]) {
        // The WebSocket stopped being open (a protocol failure, our close, the
        // peer's): the connection leaves the hub before anything else, so a
        // message answered before the close cannot subscribe it again.
        if ws.state != .open { leave() }
        for action in actions {
            switch action {
            case .deliver(let message):
                deliver(message)
            case .send(let bytes):
                enqueue(bytes)
                if case .webSocket(let route, false) = phase, WebSocketFrameEncoder.isClose(bytes) {
                    phase = .webSocket(route, closeQueued: true)
                }
            case .pongReceived:
                deadlines.peerIsAlive()
            case .startCloseTimer:
                deadlines.closeHandshakeStarted(at: Clock.now(), rules: worker.deadlineRules)
            case .closeTransport:
                if let route = webSocketRoute { phase = .finishing(route) }
            }
        }
    }

    fileprivate func deliver(_ message: WebSocketMessage) {
        guard case .webSocket(let route, _) = phase else { return }
        switch route {
        case .echo:
            switch message {
            case .text(let text): send(.text, Array(text.utf8))
            case .binary(let bytes): send(.binary, bytes)
            }
        case .stream:
            let admitted = session.rate.take(now: Clock.now())
            session.handleStreamMessage(message, admitted: admitted, on: self)
        case .publish:
            session.handlePublishMessage(message, on: self)
        }
    }

    /// A data or ping frame. The state machine encodes it while open; after
    /// a protocol failure in the current read it no longer does, and a reply
    /// to a message read before the failure is framed here, ahead of the
    /// close frame (`closeQueued` says whether that is still possible).
    func send(_ opcode: WebSocketOpcode, _ payload: [UInt8]) {
        if let frame = ws.encode(opcode, payload: payload) {
            enqueue(frame)
        } else if case .webSocket(_, closeQueued: false) = phase {
            enqueue(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload))
        }
    }

    /// Starts the closing handshake with `code`; the peer gets `closeTimeoutMs` to answer.
    func startClose(_ code: WebSocketCloseCode, reason: String = "") {
        worker.metrics.overload.countClose(code.rawValue)
        var actions: [WebSocketAction] = []
        ws.close(code: code, reason: reason, into: &actions)
        perform(actions)
        flush()
    }
}
