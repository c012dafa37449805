// libFuzzer target for the RESP parser of the Redis link. Built together with
// Sources/RESP/*.swift by Scripts/fuzz.sh (not part of the package).
//
// Input layout: byte 0 picks how many chunk sizes follow (1...8); those bytes are chunk
// sizes (1...64, cycled); the rest is the byte stream Redis (or an impostor) sends.
//
// Oracle (a violation traps, which libFuzzer reports as a crash):
// - fed in chunks and fed whole, the parser yields identical values and the same error;
// - whenever it answers "need more bytes", it holds at most one incomplete item:
//   a line up to the limit, or one bulk header and its payload;
// - every value it yields re-encodes to bytes that parse back to an equal value;
// - small limits, so huge declared lengths, counts and deep nesting are exercised.

let fuzzLimits = RESPLimits(maxLineLength: 64, maxBulkLength: 256, maxAggregateCount: 64, maxDepth: 8, maxValueBytes: 4096)
let maxBuffered = (fuzzLimits.maxLineLength + 3) + fuzzLimits.maxBulkLength + 2

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

struct Outcome: Equatable {
    var values: [RESPValue] = []
    var error: RESPError?
}

func run(_ stream: UnsafeRawBufferPointer, chunkSizes: [Int]) -> Outcome {
    var parser = RESPParser(limits: fuzzLimits)
    var outcome = Outcome()
    var offset = 0
    var turn = 0
    while offset < stream.count {
        let size = min(chunkSizes[turn % chunkSizes.count], stream.count - offset)
        parser.append(UnsafeRawBufferPointer(rebasing: stream[offset..<(offset + size)]))
        do {
            while let value = try parser.next() { outcome.values.append(value) }
        } catch {
            outcome.error = error
            return outcome
        }
        check(parser.bufferedByteCount <= maxBuffered, "buffered \(parser.bufferedByteCount) bytes")
        offset += size
        turn += 1
    }
    return outcome
}

func checkRoundTrip(_ value: RESPValue) {
    var parser = RESPParser(limits: RESPLimits(maxDepth: 64))
    parser.append(RESPEncoder.encode(value))
    let again: RESPValue?
    do { again = try parser.next() } catch { fatalError("oracle violated: re-encoded value fails: \(error)") }
    check(again == value, "re-encoded value differs: \(value) vs \(String(describing: again))")
    check(parser.bufferedByteCount == 0, "re-encoded value leaves bytes")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func respParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    guard let first = input.first else { return 0 }
    let sizeCount = Int(first % 8) + 1
    guard input.count > sizeCount else { return 0 }
    let chunkSizes = input[1...sizeCount].map { Int($0 % 64) + 1 }
    let stream = UnsafeRawBufferPointer(rebasing: input[(sizeCount + 1)...])

    let chunked = run(stream, chunkSizes: chunkSizes)
    let whole = run(stream, chunkSizes: [max(1, stream.count)])
    check(chunked == whole, "chunked and whole feeding disagree")
    for value in chunked.values { checkRoundTrip(value) }
    return 0
}
