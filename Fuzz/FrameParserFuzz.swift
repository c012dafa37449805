// libFuzzer target for the frame parser and connection state machine. Built together
// with Sources/WebSocketProtocol/*.swift by Scripts/fuzz.sh (not part of the package).
//
// Input layout: byte 0 picks how many chunk sizes follow (1...8); those bytes are chunk
// sizes (1...64, cycled); the rest is the byte stream a client sends to the server.
// The split points matter: the parser must give the same answer however bytes arrive.
//
// Oracle (a violation traps, which libFuzzer reports as a crash):
// - fed in chunks and fed whole, the connection produces identical actions;
// - after every receive the parser holds at most one partial frame (limit + 14 header bytes);
// - every `.send` is one well-formed server frame (pong or close), every close code is declared;
// - nothing follows `.closeTransport`, and EOF always ends with one;
// - delivered messages respect the message limit.

let fuzzLimits = WebSocketLimits(maxFrameSize: 512, maxMessageSize: 1024, maxFragments: 8)
let maxHeaderBytes = 14

/// A transport close reports either a code valid on the wire (ours, or the peer's echoed)
/// or one of the two local-only codes.
func isDeclared(_ code: WebSocketCloseCode) -> Bool {
    WebSocketCloseCode.isValidOnWire(code.rawValue) || code == .noStatusReceived || code == .abnormalClosure
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

func run(_ stream: UnsafeRawBufferPointer, chunkSizes: [Int]) -> [WebSocketAction] {
    var connection = WebSocketConnection(role: .server, limits: fuzzLimits)
    var actions: [WebSocketAction] = []
    var offset = 0
    var turn = 0
    while offset < stream.count {
        let size = min(chunkSizes[turn % chunkSizes.count], stream.count - offset)
        connection.receive(UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + size)]), into: &actions)
        check(connection.bufferedByteCount <= fuzzLimits.maxFrameSize + maxHeaderBytes,
              "buffered \(connection.bufferedByteCount) bytes")
        offset += size
        turn += 1
    }
    connection.receiveEOF(into: &actions)
    return actions
}

func checkActions(_ actions: [WebSocketAction]) {
    guard case .closeTransport(let code)? = actions.last else { fatalError("oracle violated: EOF did not end with closeTransport") }
    check(code.map(isDeclared) ?? true, "undeclared transport code \(String(describing: code))")
    check(actions.filter { if case .closeTransport = $0 { return true } else { return false } }.count == 1,
          "more than one closeTransport")
    for action in actions {
        switch action {
        case .send(let bytes):
            var parser = WebSocketFrameParser(role: .client, maxFrameSize: 125)
            parser.append(bytes)
            let frame: WebSocketFrame?
            do { frame = try parser.next() } catch { fatalError("oracle violated: sent an invalid frame: \(error)") }
            guard let frame else { fatalError("oracle violated: sent a partial frame") }
            check(parser.bufferedByteCount == 0, "sent trailing bytes")
            check(frame.header.opcode == .pong || frame.header.opcode == .close, "sent \(frame.header.opcode)")
            if frame.header.opcode == .close && frame.payload.count >= 2 {
                let code = UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
                check(WebSocketCloseCode.isValidOnWire(code), "sent close code \(code)")
            }
        case .deliver(.text(let text)):
            check(text.utf8.count <= fuzzLimits.maxMessageSize, "text message over the limit")
        case .deliver(.binary(let bytes)):
            check(bytes.count <= fuzzLimits.maxMessageSize, "binary message over the limit")
        case .pongReceived(let payload):
            check(payload.count <= 125, "pong payload over 125")
        case .startCloseTimer, .closeTransport:
            break
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func frameParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let sizeCount = Int(first % 8) + 1
    guard input.count > sizeCount else { return 0 }
    let chunkSizes = input[1...sizeCount].map { Int($0 % 64) + 1 }
    let stream = UnsafeRawBufferPointer(rebasing: input[(sizeCount + 1)...])

    let chunked = run(stream, chunkSizes: chunkSizes)
    let whole = run(stream, chunkSizes: [max(1, stream.count)])
    check(chunked == whole, "chunked and whole feeding disagree")
    checkActions(chunked)
    return 0
}
