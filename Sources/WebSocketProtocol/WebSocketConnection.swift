/// The connection state machine: frames in, actions out. It owns reassembly, limits,
/// ping/pong and the closing handshake, and never does I/O, so every edge case can be
/// tested with byte strings and the same code serves the server and the test client.
public struct WebSocketConnection: Sendable {
    public enum Role: Sendable { case server, client }

    public enum State: Equatable, Sendable {
        case open
        /// A close frame has been sent; waiting for the peer's close or the transport to end.
        case closing
        case closed
    }

    /// The frame parser and message assembler, created when bytes arrive and
    /// dropped again whenever a read ends on a frame boundary with no
    /// fragmented message open: an idle connection (a subscriber that has
    /// said all it had to say) carries a pointer, not ~130 bytes of parser
    /// and assembler state. The server holds thousands of those (S3).
    private var reader: Reader?
    /// Kept packed here because the reader is created again for later input.
    private let limits: PackedLimits
    /// Set once the peer's close frame has arrived (our reply is sent too by then); any
    /// later input is ignored, since nothing may follow a close frame.
    private var peerCloseCode: WebSocketCloseCode??
    /// The violation that failed this connection, if the peer broke the protocol
    /// (for metrics and logs; the close code is already on its way).
    public private(set) var failure: WebSocketProtocolError?
    private let role: Role
    public private(set) var state: State = .open

    public init(role: Role, limits: WebSocketLimits = .init()) {
        self.role = role
        self.limits = PackedLimits(limits)
    }

    /// Bytes held by the frame parser: at most one partial frame after `receive` returns.
    public var bufferedByteCount: Int { reader?.parser.bufferedByteCount ?? 0 }

    /// Whether parser and assembler state is allocated (false between frames).
    public var holdsReaderState: Bool { reader != nil }

    public mutating func receive(_ bytes: UnsafeRawBufferPointer, into actions: inout [WebSocketAction]) {
        guard state != .closed, peerCloseCode == nil, bytes.count > 0 else { return }
        let reader = uniqueReader()
        reader.parser.append(bytes)
        while state != .closed, peerCloseCode == nil {
            let frame: WebSocketFrame?
            do {
                frame = try reader.parser.next()
            } catch {
                failFraming(error, into: &actions)
                self.reader = nil
                return
            }
            guard let frame else {
                checkPartialFrame(reader, into: &actions)
                if reader.isIdle { self.reader = nil }
                return
            }
            handle(frame, reader, into: &actions)
        }
        // Nothing more will be read: whatever followed the last frame is dead weight.
        self.reader = nil
    }

    /// The reader, created if needed and copied first if another copy of this
    /// value shares it (copy-on-write: the struct keeps value semantics).
    private mutating func uniqueReader() -> Reader {
        if let reader, isKnownUniquelyReferenced(&self.reader) { return reader }
        let fresh = reader.map { Reader(copying: $0) } ?? Reader(role: role, limits: limits.unpacked)
        reader = fresh
        return fresh
    }

    public mutating func receive(_ bytes: [UInt8], into actions: inout [WebSocketAction]) {
        bytes.withUnsafeBytes { receive($0, into: &actions) }
    }

    public mutating func receiveEOF(into actions: inout [WebSocketAction]) {
        guard state != .closed else { return }
        state = .closed
        if let code = peerCloseCode {
            actions.append(.closeTransport(code ?? .noStatusReceived))
        } else {
            actions.append(.closeTransport(.abnormalClosure))
        }
    }

    public mutating func close(code: WebSocketCloseCode, reason: String = "", into actions: inout [WebSocketAction]) {
        guard state == .open else { return }
        actions.append(.send(WebSocketFrameEncoder.encodeClose(code: code, reason: reason, maskKey: newMaskKey())))
        state = .closing
        actions.append(.startCloseTimer)
    }

    /// The peer did not finish the handshake in time. If its close frame did arrive (a
    /// client waiting for the server to drop TCP), the handshake code is reported.
    public mutating func closeTimerFired(into actions: inout [WebSocketAction]) {
        guard state == .closing else { return }
        state = .closed
        if let code = peerCloseCode {
            actions.append(.closeTransport(code ?? .noStatusReceived))
        } else {
            actions.append(.closeTransport(.abnormalClosure))
        }
    }

    /// Encodes a data, ping or pong frame; close frames go through `close(code:)` so the
    /// state cannot skip the handshake.
    public mutating func encode(_ opcode: WebSocketOpcode, payload: some Collection<UInt8>) -> [UInt8]? {
        precondition(opcode != .close, "use close(code:reason:into:)")
        guard state == .open else { return nil }
        return WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, maskKey: newMaskKey())
    }

    /// Clients mask every frame with an unpredictable key (§5.3) so that a hostile page
    /// cannot choose the bytes an intermediary sees; servers never mask.
    private func newMaskKey() -> UInt32? {
        guard role == .client else { return nil }
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    private mutating func handle(_ frame: WebSocketFrame, _ reader: Reader, into actions: inout [WebSocketAction]) {
        switch frame.header.opcode {
        case .ping:
            if state == .open {
                actions.append(.send(WebSocketFrameEncoder.encode(opcode: .pong, payload: frame.payload, maskKey: newMaskKey())))
            }
        case .pong:
            actions.append(.pongReceived(frame.payload))
        case .close:
            receiveClose(frame.payload, into: &actions)
        case .text, .binary, .continuation:
            let begun = reader.partialFrameBegun
            reader.partialFrameBegun = false
            // After we started closing, data is ignored (§5.5.1), but it was still framed correctly.
            guard state == .open else { return }
            do {
                if !begun { try reader.assembler.begin(frame.header) }
                if let message = try reader.assembler.finish(frame) {
                    actions.append(.deliver(message))
                }
            } catch {
                failMessage(error, into: &actions)
            }
        }
    }

    /// Runs the header checks and incremental UTF-8 validation for a data frame whose
    /// payload is still arriving, so limits and invalid text fail before the frame completes.
    private mutating func checkPartialFrame(_ reader: Reader, into actions: inout [WebSocketAction]) {
        guard state == .open, let partial = reader.parser.partialFrame, !partial.header.opcode.isControl else { return }
        do throws(WebSocketProtocolError) {
            if !reader.partialFrameBegun {
                try reader.assembler.begin(partial.header)
                reader.partialFrameBegun = true
            }
            guard reader.assembler.isText(partial.header.opcode) else { return }
            let from = reader.assembler.partialValidatedCount
            var failure: WebSocketProtocolError?
            _ = reader.parser.withPartialPayload(from: from) { bytes in
                do throws(WebSocketProtocolError) {
                    try reader.assembler.validatePartial(bytes)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        } catch {
            failMessage(error, into: &actions)
        }
    }

    private mutating func receiveClose(_ body: [UInt8], into actions: inout [WebSocketAction]) {
        let payload: WebSocketClosePayload
        do {
            payload = try WebSocketClosePayload(parsing: body)
        } catch {
            if state == .open {
                // The peer has sent its close, so it will not send another: answer
                // with the error code and drop the transport now rather than wait
                // for a handshake that cannot finish.
                failFraming(error, into: &actions)
            } else {
                // We already sent our close; the peer's is malformed, so nothing is left to wait for.
                state = .closed
                actions.append(.closeTransport(error.closeCode))
            }
            return
        }
        let reported = payload.code ?? .noStatusReceived
        switch state {
        case .open:
            actions.append(.send(WebSocketFrameEncoder.encodeClose(code: payload.code, reason: "", maskKey: newMaskKey())))
            switch role {
            case .server:
                // RFC 6455 §7.1.1: the server closes TCP first, so the client is spared TIME_WAIT.
                state = .closed
                actions.append(.closeTransport(reported))
            case .client:
                peerCloseCode = .some(payload.code)
                state = .closing
                actions.append(.startCloseTimer)
            }
        case .closing:
            peerCloseCode = .some(payload.code)
            state = .closed
            actions.append(.closeTransport(reported))
        case .closed:
            break
        }
    }

    /// A message-level violation: frame boundaries are still known, so we can send our
    /// close and wait for the peer's, as the closing handshake wants.
    private mutating func failMessage(_ error: WebSocketProtocolError, into actions: inout [WebSocketAction]) {
        guard state == .open else { return }
        failure = error
        actions.append(.send(WebSocketFrameEncoder.encodeClose(code: error.closeCode, reason: "", maskKey: newMaskKey())))
        state = .closing
        actions.append(.startCloseTimer)
    }

    /// A framing violation: the parser can no longer find frame boundaries, so the peer's
    /// close could never be recognised. Send ours (if not already sent) and drop the
    /// transport at once ("Fail the WebSocket Connection", §7.1.7) instead of waiting for the timer.
    private mutating func failFraming(_ error: WebSocketProtocolError, into actions: inout [WebSocketAction]) {
        if state == .open {
            failure = error
            actions.append(.send(WebSocketFrameEncoder.encodeClose(code: error.closeCode, reason: "", maskKey: newMaskKey())))
        }
        state = .closed
        actions.append(.closeTransport(error.closeCode))
    }

    /// Parser and assembler state between reads. A class so an idle connection
    /// holds one pointer; only ever mutated through `uniqueReader()`, so no
    /// two `WebSocketConnection` values share a mutable one (hence the
    /// unchecked `Sendable`: sending a connection value sends its own copy).
    private final class Reader: @unchecked Sendable {
        var parser: WebSocketFrameParser
        var assembler: WebSocketMessageAssembler
        /// The current data frame's header has passed `assembler.begin` while its payload was incomplete.
        var partialFrameBegun = false

        init(role: Role, limits: WebSocketLimits) {
            parser = WebSocketFrameParser(role: role == .server ? .server : .client, maxFrameSize: limits.maxFrameSize)
            assembler = WebSocketMessageAssembler(limits: limits)
        }

        init(copying other: Reader) {
            parser = other.parser
            assembler = other.assembler
            partialFrameBegun = other.partialFrameBegun
        }

        /// Nothing buffered, no frame begun, no fragmented message open:
        /// dropping it loses nothing.
        var isIdle: Bool { parser.isAtFrameBoundary && !partialFrameBegun && assembler.isIdle }
    }

    /// `WebSocketLimits` in 12 bytes instead of 24: three `UInt32`. A limit
    /// past 4 GiB - 1 is stored as 4 GiB - 1; the largest anything here sets
    /// is 16 MiB (`echoConformance`).
    private struct PackedLimits: Sendable {
        let frame: UInt32, message: UInt32, fragments: UInt32

        init(_ limits: WebSocketLimits) {
            frame = UInt32(clamping: limits.maxFrameSize)
            message = UInt32(clamping: limits.maxMessageSize)
            fragments = UInt32(clamping: limits.maxFragments)
        }

        var unpacked: WebSocketLimits {
            WebSocketLimits(maxFrameSize: Int(frame), maxMessageSize: Int(message), maxFragments: Int(fragments))
        }
    }
}
