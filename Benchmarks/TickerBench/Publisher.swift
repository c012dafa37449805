import MarketData
import PosixIO
import TickerClient
import WebSocketProtocol

/// Publishes tick batches through `/v1/publish`, numbering each symbol's
/// sequence from 1 so every subscriber can check it received every record.
/// Records obey the ingest rules: the symbol's own price exponent (from the
/// same universe the server loads), a book that is never crossed, no flags.
final class Publisher {
    private let client: TickerClient
    private var sequences: [UInt64]
    /// Per symbol: price exponent, starting bid mantissa and tick in mantissa units.
    private let books: [(exponent: Int8, bid: Int64, tick: Int64)]
    private var buffer: [UInt8] = []
    private var payload: [UInt8] = []

    init(port: UInt16, token: String, symbols: SymbolTable, symbolCount: Int) throws {
        client = try TickerClient(url: TickerURL(host: "127.0.0.1", port: port, path: "/v1/publish", query: "token=\(token)"))
        sequences = Array(repeating: 0, count: symbolCount)
        books = (0..<symbolCount).map { id in
            let info = symbols[UInt32(id)]
            return (info.priceExponent, info.mantissa(of: info.price), max(1, info.tickMantissa))
        }
    }

    /// Sends one message of `count` ticks cycling over `symbols`, each
    /// stamped with the current wall clock. Returns the ticks per symbol.
    func publish(count: Int, symbols: Range<Int>, startAt offset: inout Int) throws -> [Int: Int] {
        buffer.removeAll(keepingCapacity: true)
        let now = Clock.wallNanos()
        TickWire.appendHeader(recordCount: count, sendTimeNs: now, to: &buffer)
        var perSymbol: [Int: Int] = [:]
        for i in 0..<count {
            let symbol = symbols.lowerBound + (offset + i) % symbols.count
            sequences[symbol] += 1
            perSymbol[symbol, default: 0] += 1
            let book = books[symbol]
            let bid = book.bid + Int64(sequences[symbol] % 100) * book.tick
            TickWire.appendRecord(Tick(
                symbolId: UInt32(symbol), priceExponent: book.exponent, sequence: sequences[symbol], eventTimeNs: now,
                bid: bid, ask: bid + book.tick, last: bid, bidSize: 100, askSize: 100, lastSize: 10), to: &buffer)
        }
        offset += count
        try client.sendBinary(buffer)
        // Answer pings and surface errors the server sent back.
        while let event = try client.next(timeoutMs: 0) {
            if case .control(.error(let e)) = event { throw BenchError("publish refused: \(e.code.rawValue) \(e.message)") }
        }
        return perSymbol
    }

    /// Sends `count` ticks cycling over `symbols`, **each as its own
    /// one-record message**, all in one write: what a feed handler relaying
    /// an exchange's tick stream does. The scenarios (s1, s2, s4) use this,
    /// so the server's per-message ingest cost is part of what they measure.
    func publishEach(count: Int, symbols: Range<Int>, startAt offset: inout Int) throws {
        buffer.removeAll(keepingCapacity: true)
        let now = Clock.wallNanos()
        for i in 0..<count {
            let symbol = symbols.lowerBound + (offset + i) % symbols.count
            sequences[symbol] += 1
            let book = books[symbol]
            let bid = book.bid + Int64(sequences[symbol] % 100) * book.tick
            payload.removeAll(keepingCapacity: true)
            TickWire.appendHeader(recordCount: 1, sendTimeNs: now, to: &payload)
            TickWire.appendRecord(Tick(
                symbolId: UInt32(symbol), priceExponent: book.exponent, sequence: sequences[symbol], eventTimeNs: now,
                bid: bid, ask: bid + book.tick, last: bid, bidSize: 100, askSize: 100, lastSize: 10), to: &payload)
            buffer += WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskKey: UInt32.random(in: 1...UInt32.max))
        }
        offset += count
        try client.sendRaw(buffer)
        while let event = try client.next(timeoutMs: 0) {
            if case .control(.error(let e)) = event { throw BenchError("publish refused: \(e.code.rawValue) \(e.message)") }
        }
    }

    func sequence(of symbol: Int) -> UInt64 { sequences[symbol] }

    func close() { client.close() }
}
