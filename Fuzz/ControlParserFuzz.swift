// libFuzzer target for the control-message parser (JSONParser behind ControlRequestDecoder)
// and the symbol lookup a subscribe leads to. Built by Scripts/fuzz.sh (not part of the
// package) together with Sources/MarketData/*.swift, instrumented, and linked with a second,
// plain -O build of the same sources as module TimedMarketData, used only for the clock.
//
// Input layout: `head 0x00 middle 0x00 tail` means head + middle repeated + tail, filled up
// to 64 KiB, so a short input reaches the size limit (deep nesting, long strings, many
// members); any other input is the message itself. Both the input as given and, when it
// has that shape, its expansion are checked.
//
// Oracle (a violation traps, which libFuzzer reports as a crash):
// - decode returns a request or throws bad_request / unknown_op / limit_exceeded;
// - a decoded request re-encodes to text that decodes to the same request;
// - requestID(in:) gives the id that decode returned or echoed in its error;
// - the parser examines at most 8 bytes per input byte + 16 (linear, whatever the machine);
// - an accepted document nests at most maxNestingDepth deep, and (up to 2 KiB) Foundation's
//   JSONSerialization accepts it too (it is JSON) unless it holds a number beyond a double,
//   which Foundation refuses and we accept (reading one as an integer is a type error);
// - TIME: no message of at most 64 KiB takes more than 10 ms to serve in a production build:
//   decode, resolve a subscribe against a symbol table, encode the reply (the loop's work but
//   for the hub and the socket). Enforced here, in the entry point, because libFuzzer's
//   -timeout is whole seconds and -report_slow_units only reports. Timed on the plain -O copy:
//   the sanitizer and coverage instrumentation of the fuzzed copy cost 7x and say nothing
//   about the server (the two copies must also agree on every answer). The clock is
//   CLOCK_THREAD_CPUTIME_ID, this thread's CPU time: monotonic, and blind to the other builds
//   sharing the machine, which stretch wall time several-fold. A run over 10 ms is repeated
//   twice and traps only if all three are over (a cold cache is not a finding).

import Foundation
import Glibc
import TimedMarketData

let timeLimitNs: UInt64 = 10_000_000
let csv = SymbolTable.csvHeader + "\nAAPL,227.5,0.2,0.01,100\nMSFT,415.2,0.2,0.01,100\nBRK.B,1,0.1,0.01,1\n"
let table = try! SymbolTable(csv: csv)
let timedTable = try! TimedMarketData.SymbolTable(csv: csv)

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

func cpuTimeNs() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// What the server does with one text frame: decode, resolve a subscription against the table,
/// and encode the reply (a fixed pong time, so the two copies can be compared).
func serve(_ bytes: [UInt8]) -> (Result<ControlRequest, ControlError>, reply: String) {
    let request: ControlRequest
    do {
        request = try ControlRequestDecoder.decode(bytes: bytes)
    } catch {
        return (.failure(error), ControlReply.error(error).encoded())
    }
    switch request {
    case .subscribe(let id, let symbols, _, _):
        do {
            return (.success(request), ControlReply.subscribed(id: id, symbols: try table.resolve(symbols, requestID: id)).encoded())
        } catch {
            check(error.code == .unknownSymbol, "resolve threw \(error.code)")
            return (.success(request), ControlReply.error(error).encoded())
        }
    case .unsubscribe(let id, _), .list(let id):
        return (.success(request), ControlReply.subscriptions(id: id, symbols: []).encoded())
    case .ping(let id):
        return (.success(request), ControlReply.pong(id: id, timeNs: 0).encoded())
    case .auth(let id, _):
        return (.success(request), ControlReply.authenticated(id: id, expiresAt: 0).encoded())
    }
}

/// The same with the plain -O copy: this is what the clock measures.
func timedServe(_ bytes: [UInt8]) -> String {
    let request: TimedMarketData.ControlRequest
    do {
        request = try TimedMarketData.ControlRequestDecoder.decode(bytes: bytes)
    } catch {
        return TimedMarketData.ControlReply.error(error).encoded()
    }
    switch request {
    case .subscribe(let id, let symbols, _, _):
        do {
            return TimedMarketData.ControlReply.subscribed(id: id, symbols: try timedTable.resolve(symbols, requestID: id)).encoded()
        } catch {
            return TimedMarketData.ControlReply.error(error).encoded()
        }
    case .unsubscribe(let id, _), .list(let id):
        return TimedMarketData.ControlReply.subscriptions(id: id, symbols: []).encoded()
    case .ping(let id):
        return TimedMarketData.ControlReply.pong(id: id, timeNs: 0).encoded()
    case .auth(let id, _):
        return TimedMarketData.ControlReply.authenticated(id: id, expiresAt: 0).encoded()
    }
}

/// Nesting depth of a document, from its tape: containers on the path to the deepest node.
func depth(_ document: JSONDocument) -> Int {
    var open: [Int] = []   // `next` of each enclosing container
    var deepest = 0
    for (index, node) in document.nodes.enumerated() {
        while let end = open.last, index >= end { open.removeLast() }
        if node.kind == .array || node.kind == .object {
            open.append(Int(node.next))
            deepest = max(deepest, open.count)
        }
    }
    return deepest
}

func checkMessage(_ bytes: [UInt8]) {
    guard bytes.count <= ControlRequestDecoder.maxInputBytes else { return }

    var fastest = UInt64.max
    var timedAnswer = ""
    for _ in 0..<3 where fastest > timeLimitNs {
        let start = cpuTimeNs()
        timedAnswer = timedServe(bytes)
        fastest = min(fastest, cpuTimeNs() - start)
    }
    check(fastest <= timeLimitNs, "\(bytes.count)-byte message took \(fastest / 1000) µs of CPU (limit 10 ms)")
    let (outcome, reply) = serve(bytes)
    check(reply == timedAnswer, "the two builds disagree")

    var work = 0
    let document = try? JSONParser.parse(bytes, maxDepth: ControlRequestDecoder.maxNestingDepth, work: &work)
    check(work <= 8 * bytes.count + 16, "\(work) byte examinations for \(bytes.count) bytes")
    if let document {
        check(depth(document) <= ControlRequestDecoder.maxNestingDepth, "accepted depth \(depth(document))")
        let numbersFit = document.nodes.allSatisfy { node in
            node.kind != .number || Double(String(decoding: document.token(of: node), as: UTF8.self))?.isFinite == true
        }
        // Only on short inputs: JSONSerialization hashes names as `String`, quadratic in a run
        // of combining marks (the fuzzer found a 64 KiB name that took it over 10 s).
        check(!numbersFit || bytes.count > 2048
                || (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil,
              "accepted what JSONSerialization refuses")
    }

    let echoedID: Int?
    switch outcome {
    case .success(let request):
        echoedID = request.id
        let again = try? ControlRequestDecoder.decode(request.encoded())
        check(again == request, "re-encoded \(request) decodes to \(String(describing: again))")
    case .failure(let error):
        echoedID = error.id
        check([.badRequest, .unknownOp, .limitExceeded].contains(error.code), "undeclared code \(error.code)")
    }
    if let text = String(validating: bytes, as: UTF8.self) {
        check(ControlRequestDecoder.requestID(in: text) == echoedID, "requestID disagrees with decode")
    }
}

/// `head 0 middle 0 tail` → head + middle × n + tail, at most 64 KiB.
func expanded(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
    guard let first = input.firstIndex(of: 0),
          let second = input[(first + 1)...].firstIndex(of: 0), second > first + 1 else { return nil }
    let head = input[..<first], middle = input[(first + 1)..<second], tail = input[(second + 1)...]
    let room = ControlRequestDecoder.maxInputBytes - head.count - tail.count
    guard room >= middle.count else { return nil }
    var text = Array(head)
    text.reserveCapacity(ControlRequestDecoder.maxInputBytes)
    for _ in 0..<(room / middle.count) { text.append(contentsOf: middle) }
    text.append(contentsOf: tail)
    return text
}

@_cdecl("LLVMFuzzerTestOneInput")
public func controlParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    checkMessage(Array(input))
    if let text = expanded(input) { checkMessage(text) }
    return 0
}
