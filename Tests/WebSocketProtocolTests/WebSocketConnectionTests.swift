import TestSupport
import Testing
import WebSocketProtocol

/// A frame as a client sends it (masked with a fixed key).
private func clientFrame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, maskKey: 0x1122_3344)
}

private func closeBody(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + reason
}

private func serverClose(_ code: WebSocketCloseCode?) -> WebSocketAction {
    .send(WebSocketFrameEncoder.encodeClose(code: code, reason: ""))
}

/// Feeds `bytes` to a fresh connection in every chunking; all must yield the same actions.
private func receiveEverySplit(
    _ bytes: [UInt8], role: WebSocketConnection.Role = .server, limits: WebSocketLimits = .init()
) -> (actions: [WebSocketAction], state: WebSocketConnection.State) {
    var outcomes: [([WebSocketAction], WebSocketConnection.State)] = []
    for chunking in SplitFeeding.chunkings(of: bytes) {
        var connection = WebSocketConnection(role: role, limits: limits)
        var actions: [WebSocketAction] = []
        for chunk in chunking.chunks { connection.receive(chunk, into: &actions) }
        outcomes.append((actions, connection.state))
    }
    #expect(outcomes.allSatisfy { $0.0 == outcomes[0].0 && $0.1 == outcomes[0].1 }, "chunkings disagree")
    return outcomes[0]
}

/// Expects a message-level failure: our close with `code`, then waiting for the peer.
private func expectFailure(_ bytes: [UInt8], code: WebSocketCloseCode, limits: WebSocketLimits = .init()) {
    let result = receiveEverySplit(bytes, limits: limits)
    #expect(result.actions.suffix(2) == [serverClose(code), .startCloseTimer])
    #expect(result.state == .closing)
}

/// Parses a close frame the client role sent (masked) and returns its code.
private func sentCloseCode(_ action: WebSocketAction?) throws -> WebSocketCloseCode? {
    guard case .send(let bytes) = action else { return nil }
    var parser = WebSocketFrameParser(role: .server, maxFrameSize: 125)
    parser.append(bytes)
    let parsed = try parser.next()
    let frame = try #require(parsed)
    #expect(frame.header.opcode == .close)
    #expect(frame.header.maskKey != nil)
    return frame.payload.count >= 2 ? WebSocketCloseCode(rawValue: UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])) : nil
}

@Suite struct WebSocketConnectionTests {
    @Test func deliversMessages() {
        let result = receiveEverySplit(clientFrame(.text, Array("héllo".utf8)) + clientFrame(.binary, [0, 1, 255]))
        #expect(result.actions == [.deliver(.text("héllo")), .deliver(.binary([0, 1, 255]))])
        #expect(result.state == .open)
    }

    @Test func reassemblesFragmentsAndAnswersPingInBetween() {
        let bytes = clientFrame(.text, Array("Hel".utf8), fin: false) + clientFrame(.ping, Array("beat".utf8))
            + clientFrame(.continuation, Array("l".utf8), fin: false) + clientFrame(.continuation, Array("o".utf8))
        let result = receiveEverySplit(bytes)
        #expect(result.actions == [
            .send(WebSocketFrameEncoder.encode(opcode: .pong, payload: Array("beat".utf8))),
            .deliver(.text("Hello")),
        ])
    }

    @Test func unsolicitedPongIsReportedNotAnswered() {
        #expect(receiveEverySplit(clientFrame(.pong, [7, 8])).actions == [.pongReceived([7, 8])])
    }

    @Test func serverCloseHandshakeEchoesCodeAndClosesTransport() {
        let result = receiveEverySplit(clientFrame(.close, closeBody(1000, Array("bye".utf8))) + clientFrame(.text, [0x41]))
        #expect(result.actions == [serverClose(.normal), .closeTransport(.normal)])
        #expect(result.state == .closed)
    }

    @Test func bytesAfterTheCloseAreNotKept() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        connection.receive(clientFrame(.close, closeBody(1000)) + [UInt8](repeating: 0x82, count: 5000), into: &actions)
        #expect(actions.last == .closeTransport(.normal))
        #expect(connection.bufferedByteCount == 0)
    }

    @Test func emptyCloseBodyIsAnsweredWithEmptyBody() {
        let result = receiveEverySplit(clientFrame(.close, []))
        #expect(result.actions == [.send([0x88, 0x00]), .closeTransport(.noStatusReceived)])
    }

    @Test(arguments: [1000, 3000, 4999] as [UInt16])
    func validCloseCodesAreEchoed(_ raw: UInt16) {
        let result = receiveEverySplit(clientFrame(.close, closeBody(raw)))
        #expect(result.actions == [serverClose(WebSocketCloseCode(rawValue: raw)), .closeTransport(WebSocketCloseCode(rawValue: raw))])
    }

    /// A malformed close still ends the peer's side of the handshake: it will
    /// not send another, so we answer with the error code and drop TCP at once
    /// (Autobahn 7.3.2, 7.5.1, 7.9.x expect the server to close the connection).
    private func expectMalformedClose(_ body: [UInt8], code: WebSocketCloseCode) {
        let result = receiveEverySplit(clientFrame(.close, body))
        #expect(result.actions == [serverClose(code), .closeTransport(code)])
        #expect(result.state == .closed)
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] as [UInt16])
    func invalidCloseCodes(_ raw: UInt16) { expectMalformedClose(closeBody(raw), code: .protocolError) }

    @Test func oneByteCloseBody() { expectMalformedClose([0x03], code: .protocolError) }

    @Test func closeReasonNotUTF8() { expectMalformedClose(closeBody(1000, [0xCE, 0xBA, 0xFF]), code: .invalidPayload) }

    @Test func serverInitiatedCloseThenPeerReply() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        connection.close(code: .goingAway, reason: "shutdown", into: &actions)
        #expect(actions == [.send(WebSocketFrameEncoder.encodeClose(code: .goingAway, reason: "shutdown")), .startCloseTimer])
        #expect(connection.state == .closing)
        let refused = connection.encode(.text, payload: [0x41])
        #expect(refused == nil)
        actions = []
        // Data still in flight from the peer is ignored; its close finishes the handshake.
        connection.receive(clientFrame(.text, [0x41]) + clientFrame(.close, closeBody(1001)), into: &actions)
        #expect(actions == [.closeTransport(.goingAway)])
        #expect(connection.state == .closed)
    }

    @Test func closeTimerForcesTheTransportClosed() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        connection.close(code: .slowConsumer, into: &actions)
        actions = []
        connection.closeTimerFired(into: &actions)
        #expect(actions == [.closeTransport(.abnormalClosure)])
        #expect(connection.state == .closed)
        connection.closeTimerFired(into: &actions)
        connection.close(code: .normal, into: &actions)
        #expect(actions.count == 1)
    }

    @Test func eofWithoutHandshakeIsAbnormal() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        connection.receive(clientFrame(.text, Array("hi".utf8), fin: false), into: &actions)
        connection.receiveEOF(into: &actions)
        #expect(actions == [.closeTransport(.abnormalClosure)])
        #expect(connection.state == .closed)
    }

    @Test func clientAnswersServerCloseAndWaitsForTCPClose() throws {
        var connection = WebSocketConnection(role: .client)
        var actions: [WebSocketAction] = []
        connection.receive(WebSocketFrameEncoder.encodeClose(code: .goingAway, reason: "bye"), into: &actions)
        #expect(actions.count == 2)
        #expect(try sentCloseCode(actions.first) == .goingAway)
        #expect(actions.last == .startCloseTimer)
        #expect(connection.state == .closing)
        actions = []
        connection.receiveEOF(into: &actions)
        #expect(actions == [.closeTransport(.goingAway)])
    }

    @Test func clientInitiatedClose() throws {
        var connection = WebSocketConnection(role: .client)
        var actions: [WebSocketAction] = []
        connection.close(code: .normal, into: &actions)
        #expect(try sentCloseCode(actions.first) == .normal)
        actions = []
        connection.receive(WebSocketFrameEncoder.encodeClose(code: .normal, reason: ""), into: &actions)
        #expect(actions == [.closeTransport(.normal)])
    }

    @Test func clientMasksWithFreshKeysAndServerDoesNot() throws {
        var client = WebSocketConnection(role: .client)
        let encodedFirst = client.encode(.text, payload: Array("hi".utf8))
        let encodedSecond = client.encode(.text, payload: Array("hi".utf8))
        let first = try #require(encodedFirst)
        let second = try #require(encodedSecond)
        var parser = WebSocketFrameParser(role: .server, maxFrameSize: 100)
        parser.append(first + second)
        let parsedA = try parser.next()
        let parsedB = try parser.next()
        let a = try #require(parsedA)
        let b = try #require(parsedB)
        #expect(a.payload == Array("hi".utf8) && b.payload == Array("hi".utf8))
        #expect(a.header.maskKey != b.header.maskKey)
        var server = WebSocketConnection(role: .server)
        let serverFrame = server.encode(.binary, payload: [1, 2])
        #expect(serverFrame == [0x82, 0x02, 1, 2])
    }

    @Test func clientRejectsMaskedServerFrame() throws {
        // Not fed every split: the client's close frame carries a fresh random mask each time.
        var connection = WebSocketConnection(role: .client)
        var actions: [WebSocketAction] = []
        connection.receive(clientFrame(.text, [0x41]), into: &actions)
        #expect(actions.count == 2)
        #expect(try sentCloseCode(actions.first) == .protocolError)
        #expect(actions.last == .closeTransport(.protocolError))
    }

    // Framing violations: the stream is desynchronised, so close is sent and TCP dropped at once.

    @Test func unmaskedClientFrameFailsWith1002() {
        let result = receiveEverySplit(WebSocketFrameEncoder.encode(opcode: .text, payload: [0x41]))
        #expect(result.actions == [serverClose(.protocolError), .closeTransport(.protocolError)])
        #expect(result.state == .closed)
    }

    @Test func lengthTopBitSetFailsWith1002WithoutTrap() {
        let result = receiveEverySplit([0x82, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
        #expect(result.actions == [serverClose(.protocolError), .closeTransport(.protocolError)])
    }

    @Test func declaredFrameOverLimitFailsWith1009BeforeBuffering() {
        var connection = WebSocketConnection(role: .server, limits: .init(maxFrameSize: 1000, maxMessageSize: 1000))
        var actions: [WebSocketAction] = []
        connection.receive([0x82, 0xFE, 0x10, 0x00, 1, 2, 3, 4] + [UInt8](repeating: 0, count: 100), into: &actions)
        #expect(actions == [serverClose(.messageTooBig), .closeTransport(.messageTooBig)])
        #expect(connection.bufferedByteCount == 0)
    }

    // Message-level violations: close sent, waiting for the peer's close.

    @Test func strayContinuation() { expectFailure(clientFrame(.continuation, [0x41]), code: .protocolError) }

    @Test func interleavedDataFrame() {
        expectFailure(clientFrame(.text, [0x41], fin: false) + clientFrame(.binary, [0x42]), code: .protocolError)
    }

    @Test func fragmentFlood() {
        var bytes = clientFrame(.binary, [1], fin: false)
        for _ in 0..<20 { bytes += clientFrame(.continuation, [], fin: false) }
        expectFailure(bytes, code: .policyViolation, limits: .init(maxFragments: 16))
    }

    @Test func messageOverMaxMessageSize() {
        let limits = WebSocketLimits(maxFrameSize: 100, maxMessageSize: 150)
        expectFailure(clientFrame(.binary, [UInt8](repeating: 1, count: 100), fin: false)
            + clientFrame(.continuation, [UInt8](repeating: 2, count: 51)), code: .messageTooBig, limits: limits)
    }

    @Test func messageOverLimitIsRefusedAtTheHeaderOfTheFrameThatExceedsIt() {
        var connection = WebSocketConnection(role: .server, limits: .init(maxFrameSize: 1000, maxMessageSize: 150))
        var actions: [WebSocketAction] = []
        let frame = clientFrame(.binary, [UInt8](repeating: 1, count: 500))
        connection.receive(Array(frame.prefix(10)), into: &actions)
        #expect(actions == [serverClose(.messageTooBig), .startCloseTimer])
    }

    @Test func invalidUTF8InOneFrame() { expectFailure(clientFrame(.text, [0x41, 0xC0, 0xAF]), code: .invalidPayload) }

    @Test func invalidUTF8FailsAtTheBadFragmentNotAtMessageEnd() {
        // No final fragment is ever sent: the failure must come from fragment 2 alone.
        expectFailure(clientFrame(.text, Array("κό".utf8), fin: false) + clientFrame(.continuation, [0xED, 0xA0, 0x80], fin: false),
                      code: .invalidPayload)
    }

    @Test func utf8SplitAcrossFragmentsIsValid() {
        let euro = Array("€".utf8)
        let bytes = clientFrame(.text, [euro[0]], fin: false) + clientFrame(.continuation, [euro[1]], fin: false)
            + clientFrame(.continuation, [euro[2]])
        #expect(receiveEverySplit(bytes).actions == [.deliver(.text("€"))])
    }

    @Test func invalidUTF8FailsBeforeItsFrameIsComplete() {
        // Only the first 9 payload bytes of a 100-byte frame arrive; byte 9 is already invalid.
        let frame = clientFrame(.text, Array("abcdefgh".utf8) + [0xFF] + [UInt8](repeating: 0x41, count: 91))
        expectFailure(Array(frame.prefix(8 + 9)), code: .invalidPayload)
    }

    @Test func truncatedSequenceAtMessageEnd() { expectFailure(clientFrame(.text, [0xE2, 0x82]), code: .invalidPayload) }

    @Test func afterAFailureOnlyThePeersCloseMatters() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        connection.receive(clientFrame(.continuation, [1]), into: &actions)
        actions = []
        connection.receive(clientFrame(.text, [0xFF]) + clientFrame(.ping, []) + clientFrame(.close, closeBody(1002)), into: &actions)
        #expect(actions == [.closeTransport(.protocolError)])
    }

    // MARK: reader state (S3: an idle connection keeps none)

    @Test func readerStateExistsOnlyWhileAFrameOrMessageIsOpen() {
        var connection = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        #expect(!connection.holdsReaderState)
        let whole = clientFrame(.text, Array("hi".utf8))
        connection.receive(whole, into: &actions)
        #expect(actions == [.deliver(.text("hi"))])
        #expect(!connection.holdsReaderState, "a read ending on a frame boundary keeps nothing")

        // Half a frame: the parser must keep it.
        connection.receive(Array(whole.prefix(3)), into: &actions)
        #expect(connection.holdsReaderState)
        #expect(connection.bufferedByteCount == 3)
        connection.receive(Array(whole.dropFirst(3)), into: &actions)
        #expect(actions.count == 2)
        #expect(!connection.holdsReaderState)

        // A complete first fragment: the assembler must keep the open message.
        connection.receive(clientFrame(.text, Array("ab".utf8), fin: false), into: &actions)
        #expect(connection.holdsReaderState)
        connection.receive(clientFrame(.continuation, Array("cd".utf8)), into: &actions)
        #expect(actions.last == .deliver(.text("abcd")))
        #expect(!connection.holdsReaderState)
    }

    /// The reader is shared storage inside a value type: a copy taken
    /// mid-frame must not see what the original is fed afterwards.
    @Test func copiesKeepTheirOwnPartialFrame() {
        var original = WebSocketConnection(role: .server)
        var actions: [WebSocketAction] = []
        let first = clientFrame(.binary, [1, 2, 3, 4])
        original.receive(Array(first.prefix(4)), into: &actions)
        var copy = original
        original.receive(Array(first.dropFirst(4)), into: &actions)
        #expect(actions == [.deliver(.binary([1, 2, 3, 4]))])
        var copyActions: [WebSocketAction] = []
        copy.receive(Array(first.dropFirst(4)), into: &copyActions)
        #expect(copyActions == [.deliver(.binary([1, 2, 3, 4]))], "the copy kept its own four header bytes")
        #expect(!original.holdsReaderState && !copy.holdsReaderState)
    }

    /// Limits survive the reader being dropped and created again.
    @Test func limitsApplyToReadersCreatedLater() {
        var connection = WebSocketConnection(role: .server, limits: WebSocketLimits(maxFrameSize: 8))
        var actions: [WebSocketAction] = []
        connection.receive(clientFrame(.binary, [1]), into: &actions)
        #expect(!connection.holdsReaderState)
        connection.receive(clientFrame(.binary, Array(repeating: 0, count: 9)), into: &actions)
        #expect(actions.contains(.closeTransport(.messageTooBig)))
        #expect(connection.state == .closed)
    }
}

