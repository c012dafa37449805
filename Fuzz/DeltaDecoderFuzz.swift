// libFuzzer target for the delta decoder (TickDeltaDecoder, message type 2) and the encoder it
// must agree with. Built by Scripts/fuzz.sh (not part of the package) from
// Sources/MarketData/**/*.swift plus this file, instrumented.
//
// Input layout: a sequence of messages, each a 2-byte little-endian length then that many bytes
// (the last one cut short by the end of the input), decoded in order by one decoder, as a
// connection's messages are. A length of 0xFFFF means "the rest of the input".
//
// Oracle (a violation traps, which libFuzzer reports as a crash):
// - decoding returns records or throws a TickDeltaError; never a trap, never a hang (linear);
// - a decoded message holds exactly its header's record count, and the decoder keeps at most
//   TickDeltaDecoder.maxSymbols symbols; after an error it holds none;
// - never a wrong record from a cut message: every proper prefix of an accepted message (split
//   at every byte up to 256, then every 7th) fails on the same starting state;
// - TickDelta.summarize (the server's state-free walk) never traps, and on an accepted message
//   agrees with every record's symbol, flags, count and keyframe sequence;
// - each decoded record re-encodes, as a keyframe and as a delta against the record its symbol
//   had before (what a server would send), to bytes that decode to the same record.

// Compiled into the same module as Sources/MarketData: no import.

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

func message(_ records: [(Tick, Tick?)], sendTimeNs: UInt64) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: TickWire.headerSize)
    out.withUnsafeMutableBytes { TickDelta.writeHeader(recordCount: records.count, sendTimeNs: sendTimeNs, to: $0.baseAddress!) }
    for (tick, reference) in records { TickDelta.appendRecord(tick, reference: reference, sendTimeNs: sendTimeNs, to: &out) }
    return out
}

func checkMessage(_ bytes: ArraySlice<UInt8>, decoder: inout TickDeltaDecoder) {
    let before = decoder
    let summaries = Array(bytes).withUnsafeBytes { TickDelta.summarize($0) }
    let result: (sendTimeNs: UInt64, ticks: [Tick])
    do {
        result = try decoder.decodeMessage(bytes)
    } catch {
        check(decoder.symbolCount == 0, "state kept after \(error.code)")
        check(!error.code.isEmpty, "an error without a code")
        return
    }
    let declared = Int(bytes[bytes.startIndex + 2]) | Int(bytes[bytes.startIndex + 3]) << 8
    check(result.ticks.count == declared, "\(result.ticks.count) records, header says \(declared)")
    check(decoder.symbolCount <= TickDeltaDecoder.maxSymbols, "symbols kept: \(decoder.symbolCount)")
    check(summaries?.count == result.ticks.count, "summaries of an accepted message: \(String(describing: summaries?.count))")
    for (summary, tick) in zip(summaries ?? [], result.ticks) {
        check(summary.symbolId == tick.symbolId && summary.flags == tick.flags && summary.conflatedCount == tick.conflatedCount
              && (summary.keyframeSequence == nil || summary.keyframeSequence == tick.sequence), "summary \(summary) of \(tick)")
    }
    var cut = 0
    while cut < bytes.count {
        var probe = before
        let ok = (try? probe.decodeMessage(bytes.prefix(cut))) != nil
        check(!ok, "a message cut at \(cut) of \(bytes.count) bytes decoded")
        cut += cut < 256 ? 1 : 7
    }
    var state: [UInt32: Tick] = [:]
    for tick in result.ticks {
        let reference = state[tick.symbolId] ?? before.reference(tick.symbolId)
        var keyDecoder = TickDeltaDecoder()
        let keyframe = try? keyDecoder.decodeMessage(message([(tick, nil)], sendTimeNs: result.sendTimeNs))
        check(keyframe?.ticks == [tick], "keyframe round trip of \(tick)")
        if let reference {
            var deltaDecoder = TickDeltaDecoder()
            let both = try? deltaDecoder.decodeMessage(message([(reference, nil), (tick, reference)], sendTimeNs: result.sendTimeNs))
            check(both?.ticks == [reference, tick], "delta round trip of \(tick) against \(reference)")
        }
        state[tick.symbolId] = tick
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func deltaDecoderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    var decoder = TickDeltaDecoder()
    var at = 0
    while at + 2 <= input.count {
        let length = Int(input[at]) | Int(input[at + 1]) << 8
        at += 2
        let end = length == 0xFFFF ? input.count : min(input.count, at + length)
        checkMessage(input[at..<end], decoder: &decoder)
        at = end
    }
    return 0
}
