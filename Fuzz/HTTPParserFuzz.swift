// libFuzzer target for the HTTP head parsers and the upgrade handshake. Built together
// with Sources/WebSocketProtocol/*.swift, over the HTTP module, by Scripts/fuzz.sh (not
// part of the package).
//
// Input layout: byte 0 is the chunk size (1...256); the rest is what a peer sends.
// Oracle (a violation traps): chunked and whole feeding agree; `consumed` stays within
// the last chunk and the head limit; failures are 400 or 431; a parsed request either
// upgrades (101 with the right accept value) or is refused with 400/403/426.

import HTTP

let headLimit = 1024

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

/// Outcome as comparable values: (head, total consumed offset or -status).
/// Requests and responses share one head reader, so the same bounds hold for both.
func parse<Head: HTTPHead>(_ stream: UnsafeRawBufferPointer, chunk: Int, as _: Head.Type) -> (Head?, Int) {
    var parser = HTTPHeadParser<Head>(maxHeaderBytes: headLimit, maxHeaderCount: 20)
    var offset = 0
    while offset < stream.count {
        let size = min(chunk, stream.count - offset)
        switch parser.append(UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + size)])) {
        case .needMore:
            offset += size
        case .complete(let head, let consumed):
            check(consumed >= 1 && consumed <= size, "consumed \(consumed) of a \(size)-byte chunk")
            check(offset + consumed <= headLimit, "head longer than the limit")
            return (head, offset + consumed)
        case .failed(let error):
            check(error.status == 400 || error.status == 431, "status \(error.status)")
            return (nil, -error.status)
        }
    }
    return (nil, 0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func httpParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let chunk = Int(first) + 1
    let stream = UnsafeRawBufferPointer(rebasing: input[1...])

    let chunked = parse(stream, chunk: chunk, as: HTTPRequestHead.self)
    let whole = parse(stream, chunk: max(1, stream.count), as: HTTPRequestHead.self)
    check(chunked.0 == whole.0 && chunked.1 == whole.1, "request: chunked and whole feeding disagree")
    if let head = chunked.0 {
        switch WebSocketHandshake.serverResponse(to: head, allowedOrigins: ["http://localhost"]) {
        case .success(let response):
            check(response.status == 101, "success with status \(response.status)")
            let key = head.header("Sec-WebSocket-Key") ?? ""
            check(response.headers.contains { $0.0 == "Sec-WebSocket-Accept" && $0.1 == WebSocketHandshake.acceptValue(forKey: key) },
                  "wrong accept value")
            _ = response.serialize()
        case .failure(let error):
            check([400, 403, 426].contains(error.response.status), "refused with \(error.response.status)")
            _ = error.response.serialize()
        }
        _ = head.path
        _ = head.query
    }

    let responseChunked = parse(stream, chunk: chunk, as: HTTPResponseHead.self)
    let responseWhole = parse(stream, chunk: max(1, stream.count), as: HTTPResponseHead.self)
    check(responseChunked.0 == responseWhole.0 && responseChunked.1 == responseWhole.1, "response: chunked and whole feeding disagree")
    if let head = responseChunked.0 {
        do throws(WebSocketClientHandshakeError) {
            try WebSocketHandshake.validateServerResponse(head, key: "dGhlIHNhbXBsZSBub25jZQ==")
        } catch {
            _ = error
        }
    }
    return 0
}
