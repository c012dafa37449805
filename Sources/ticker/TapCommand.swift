import Foundation
import MarketData
import TickerClient

enum TapCommand {
    static let help = """
    USAGE: ticker tap --symbols AAPL,MSFT [--url URL] [--json] [--count N] [--seconds S]

    Connects to a ticker server, subscribes, and prints one decoded tick per
    line, plus any sequence gap it sees (on standard error).

    OPTIONS:
      --symbols LIST   Comma-separated symbols, or * for all (required)
      --url URL        Stream URL (default ws://127.0.0.1:8080/v1/stream)
      --json           One JSON object per tick instead of a text line
      --count N        Exit after N ticks
      --seconds S      Exit after S seconds
      -h, --help       Show this help
    """

    struct Options {
        var url = "ws://127.0.0.1:8080/v1/stream"
        var symbols: [String] = []
        var json = false
        var count: Int?
        var seconds: Double?
    }

    static func parse(_ args: inout Arguments) throws(ArgumentError) -> Options {
        var options = Options()
        if let url = try args.value("--url") { options.url = url }
        guard let list = try args.value("--symbols") else {
            throw ArgumentError(message: "tap needs --symbols, e.g. --symbols AAPL,MSFT")
        }
        options.symbols = list.split(separator: ",").map(String.init)
        options.json = args.flag("--json")
        options.count = try args.int("--count", in: 1...Int.max)
        options.seconds = try args.double("--seconds", in: 0.001...1e9)
        try args.finish()
        return options
    }

    /// Returns the exit status: 0 normally, 1 when the server closed the connection with an error.
    static func run(_ options: Options) throws -> Int32 {
        let client = try TickerClient(url: options.url)
        try client.subscribe(options.symbols, id: 1)
        var names: [UInt32: String] = [:]
        var printed = 0
        var reportedGaps = 0
        let started = Date()
        while true {
            if let seconds = options.seconds, Date().timeIntervalSince(started) >= seconds { return 0 }
            guard let event = try client.next(timeoutMs: 200) else { continue }
            switch event {
            case .control(.subscribed(_, let refs)):
                for ref in refs { names[ref.id] = ref.symbol }
            case .control(.error(let error)):
                FileHandle.standardError.write(Data("server error \(error.code.rawValue): \(error.message)\n".utf8))
                return 1
            case .control:
                continue
            case .unknownText(let text):
                FileHandle.standardError.write(Data("unrecognised text message: \(text)\n".utf8))
            case .ticks(_, let ticks):
                for tick in ticks {
                    let name = names[tick.symbolId] ?? "#\(tick.symbolId)"
                    // One write per line: a pipe reader sees each tick as it arrives.
                    let line = options.json ? TickFormat.json(tick, symbol: name) : TickFormat.line(tick, symbol: name)
                    do {
                        try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
                    } catch {
                        return 0   // the reader went away (e.g. `| head`): a normal end
                    }
                    printed += 1
                    if let count = options.count, printed >= count { return 0 }
                }
                for gap in client.tracker.gaps.suffix(from: reportedGaps) {
                    FileHandle.standardError.write(Data("GAP \(names[gap.symbolId] ?? "#\(gap.symbolId)"): \(gap)\n".utf8))
                }
                reportedGaps = client.tracker.gaps.count
            case .closed(let code):
                FileHandle.standardError.write(Data("server closed the connection (code \(code.map { String($0.rawValue) } ?? "none"))\n".utf8))
                return code == nil || code == .normal || code == .goingAway ? 0 : 1
            }
        }
    }
}

/// How `tap` prints a tick.
enum TickFormat {
    static func price(_ mantissa: Int64, exponent: Int8) -> String {
        let digits = max(0, -Int(exponent))
        var value = Double(mantissa)
        for _ in 0..<digits { value /= 10 }
        return String(format: "%.\(digits)f", value)
    }

    static func line(_ t: Tick, symbol: String) -> String {
        var flags = ""
        if t.flags.contains(.snapshot) { flags += " snapshot" }
        if t.flags.contains(.conflated) { flags += " conflated(\(t.conflatedCount))" }
        let time = Date(timeIntervalSince1970: Double(t.eventTimeNs) / 1e9).ISO8601Format(.iso8601.time(includingFractionalSeconds: true))
        return "\(time) \(symbol.padding(toLength: 6, withPad: " ", startingAt: 0)) seq=\(t.sequence) bid=\(price(t.bid, exponent: t.priceExponent))x\(t.bidSize) ask=\(price(t.ask, exponent: t.priceExponent))x\(t.askSize) last=\(price(t.last, exponent: t.priceExponent))x\(t.lastSize)\(flags)"
    }

    static func json(_ t: Tick, symbol: String) -> String {
        "{\"symbol\":\"\(symbol)\",\"id\":\(t.symbolId),\"seq\":\(t.sequence),\"time_ns\":\(t.eventTimeNs),\"bid\":\(price(t.bid, exponent: t.priceExponent)),\"ask\":\(price(t.ask, exponent: t.priceExponent)),\"last\":\(price(t.last, exponent: t.priceExponent)),\"bid_size\":\(t.bidSize),\"ask_size\":\(t.askSize),\"last_size\":\(t.lastSize),\"snapshot\":\(t.flags.contains(.snapshot)),\"conflated\":\(t.conflatedCount)}"
    }
}
