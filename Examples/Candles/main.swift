// One-second candles (open, high, low, close, update count) per symbol from
// a ticker server, kept exact across disconnects: the client resumes with
// `from`, so a candle built across a reconnect has every update in it. A
// reset (the server could not replay what was missed) marks the candle as
// incomplete instead of silently skewing it.
//
//   swift run CandlesExample ws://127.0.0.1:8080/v1/stream AAPL,MSFT
//
// Extra URLs after the symbols are fail-over servers.
import Foundation
import MarketData
import TickerClient

struct Candle {
    var open: Int64, high: Int64, low: Int64, close: Int64
    var updates = 1
    /// Some updates of this second may be missing (a reset or a gap).
    var incomplete = false

    init(_ price: Int64) { (open, high, low, close) = (price, price, price, price) }

    mutating func add(_ price: Int64) {
        high = max(high, price)
        low = min(low, price)
        close = price
        updates += 1
    }
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: CandlesExample URL SYMBOL[,SYMBOL...] [FAILOVER-URL...]\n".utf8))
    exit(2)
}
let urls = [arguments[arguments.startIndex]] + arguments.dropFirst(2)
let symbols = arguments[arguments.startIndex + 1].split(separator: ",").map(String.init)

let client = try AsyncTickerClient(urls: Array(urls), symbols: symbols)
var names: [UInt32: String] = [:]
var candles: [String: (second: UInt64, candle: Candle)] = [:]
var suspect: Set<String> = []

func emit(_ symbol: String, _ second: UInt64, _ c: Candle) {
    let flag = c.incomplete ? "  (incomplete: updates were missed)" : ""
    print("\(symbol) \(second) O=\(c.open) H=\(c.high) L=\(c.low) C=\(c.close) n=\(c.updates)\(flag)")
}

for try await event in client.events {
    switch event {
    case .connected(let url, let reconnect):
        if reconnect { print("-- reconnected to \(url)") }
    case .subscribed(let refs):
        for ref in refs { names[ref.id] = ref.symbol }
    case .resumed(let list):
        print("-- resumed \(list.joined(separator: ",")) without a gap")
    case .reset(let symbol), .gap(let symbol, _, _):
        suspect.insert(symbol)
    case .ticks(_, let ticks):
        for tick in ticks {
            guard let symbol = names[tick.symbolId], tick.last != 0 else { continue }
            let second = tick.eventTimeNs / 1_000_000_000
            if let (current, candle) = candles[symbol], current == second {
                var updated = candle
                updated.add(tick.last)
                if tick.flags.contains(.conflated) { updated.incomplete = true }
                candles[symbol] = (second, updated)
            } else {
                if let (previous, candle) = candles[symbol] { emit(symbol, previous, candle) }
                var fresh = Candle(tick.last)
                fresh.incomplete = suspect.remove(symbol) != nil
                candles[symbol] = (second, fresh)
            }
        }
    case .unsubscribed(let list, let reason):
        print("-- the server ended \(list.joined(separator: ",")) (\(reason))")
    case .error(let error):
        print("-- server refused: \(error.code.rawValue): \(error.message)")
    case .decodeError(let why):
        print("-- undecodable message (\(why)); reconnecting")
    case .disconnected(let reason, let retry):
        print("-- disconnected (\(reason))" + (retry.map { ", retrying in \($0 / 1_000_000) ms" } ?? ""))
    }
}
