import Foundation
import MarketData
import Synchronization
import TickerClient
import TickerClientTLS

enum TapCommand {
    static let help = """
    USAGE: ticker tap --symbols AAPL,MSFT [--url URL]... [--json] [--count N] [--seconds S]
                      [--interval-ms N] [--encoding delta|raw] [--no-reconnect]
                      [--from SEQ] [--ca-file PEM]
                      [--token TOKEN | --token-file FILE]

    Connects to a ticker server, subscribes, and prints one decoded tick per
    line. On standard error it reports connections, reconnects, resumes and
    resets, and any sequence gap it sees.

    If the connection is lost after it was established, tap reconnects by
    itself (exponential back-off with jitter, trying each --url in turn) and
    resumes every symbol where it left off: the server replays what it missed
    if it still holds it, or sends a fresh snapshot (printed as a reset).
    The very first connection must succeed, so a wrong address fails at once.

    OPTIONS:
      --symbols LIST   Comma-separated symbols, or * for all (required)
      --url URL        Stream URL (default ws://127.0.0.1:8080/v1/stream);
                       repeat it to fail over between servers. wss:// URLs
                       go through TLS: the certificate must chain to a
                       trusted CA and be valid for the URL's host
      --ca-file PEM    Trust the CA certificates in this PEM file instead of
                       the system's (a private CA); for wss:// URLs
      --token TOKEN    Present this token (servers started with --auth-keys;
                       shows in ps: prefer --token-file or TICKER_TOKEN)
      --token-file F   Read the token from file F before every connection and
                       when the server says it is about to expire, so another
                       process can keep it fresh (the connection goes on)
      --interval-ms N  At most one record per symbol every N ms (50-60000):
                       the newest, counting the updates it replaced; 0 (the
                       default) is every tick
      --encoding E     delta (the default: varint records, about a sixth
                       of the bytes) or raw (64-byte v1 records); either is
                       decoded, whatever the server sends
      --json           One JSON object per tick instead of a text line
      --count N        Exit after N ticks
      --seconds S      Exit after S seconds
      --no-reconnect   Exit when the connection ends (the old behaviour)
      --reconnect      Reconnect and resume after a loss (the default)
      --from SEQ       Start after sequence SEQ of the one symbol in --symbols:
                       the server replays the updates after it if it still holds
                       them (else a snapshot, reported as a reset)
      -h, --help       Show this help
    """

    struct Options {
        var urls = ["ws://127.0.0.1:8080/v1/stream"]
        var symbols: [String] = []
        var json = false
        var count: Int?
        var seconds: Double?
        var reconnect = true
        var from: UInt64?
        var intervalMs = 0
        var encoding = TickEncoding.delta
        var caFile: String?
        var token: String?
        var tokenFile: String?
    }

    static func parse(_ args: inout Arguments) throws(ArgumentError) -> Options {
        var options = Options()
        let urls = try args.values("--url")
        if !urls.isEmpty { options.urls = urls }
        guard let list = try args.value("--symbols") else {
            throw ArgumentError(message: "tap needs --symbols, e.g. --symbols AAPL,MSFT")
        }
        options.symbols = list.split(separator: ",").map(String.init)
        options.json = args.flag("--json")
        options.count = try args.int("--count", in: 1...Int.max)
        options.seconds = try args.double("--seconds", in: 0.001...1e9)
        let on = args.flag("--reconnect")
        let off = args.flag("--no-reconnect")
        if on && off { throw ArgumentError(message: "--reconnect and --no-reconnect contradict each other") }
        options.reconnect = !off
        options.from = try args.int("--from", in: 0...ResumeRequest.maxSequence)
        if options.from != nil && (options.symbols.count != 1 || options.symbols[0] == ControlRequest.wildcard) {
            throw ArgumentError(message: "--from needs exactly one symbol in --symbols (e.g. --symbols AAPL --from 1234)")
        }
        if let ms = try args.int("--interval-ms", in: 0...ControlRequest.intervalRange.upperBound) {
            guard ControlRequest.isValidInterval(ms) else {
                throw ArgumentError(message: "--interval-ms must be 0 (every tick) or from \(ControlRequest.intervalRange.lowerBound) to \(ControlRequest.intervalRange.upperBound)")
            }
            options.intervalMs = ms
        }
        if let text = try args.value("--encoding") {
            guard let encoding = TickEncoding(rawValue: text) else {
                throw ArgumentError(message: "--encoding must be delta or raw")
            }
            options.encoding = encoding
        }
        options.caFile = try args.value("--ca-file")
        options.token = try args.value("--token") ?? ProcessInfo.processInfo.environment["TICKER_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        options.tokenFile = try args.value("--token-file")
        if options.token != nil && options.tokenFile != nil {
            throw ArgumentError(message: "give the token once: --token (or TICKER_TOKEN) or --token-file")
        }
        if options.caFile != nil && !options.urls.contains(where: { TickerURL(string: $0)?.isSecure == true }) {
            throw ArgumentError(message: "--ca-file applies to wss:// URLs, and no --url is one")
        }
        try args.finish()
        return options
    }

    /// The first line of `path`, trimmed; an empty file is an error.
    @Sendable static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArgumentError(message: "--token-file: cannot read \(path)")
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let token = line.trimmingCharacters(in: .whitespaces)
        if token.isEmpty { throw ArgumentError(message: "--token-file: \(path) is empty") }
        return token
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data("\(text)\n".utf8))
    }

    /// Returns the exit status: 0 normally, 1 when the server refused a
    /// request or closed the connection with an error (without reconnect).
    static func run(_ options: Options) throws -> Int32 {
        var urls: [TickerURL] = []
        for text in options.urls {
            guard let url = TickerURL(string: text) else { throw TickerClientError.badURL(text) }
            urls.append(url)
        }
        var configuration = AsyncTickerClient.Configuration(
            urls: urls, symbols: options.symbols,
            from: options.from.map { [options.symbols[0]: $0] } ?? [:])
        configuration.reconnect = options.reconnect
        configuration.intervalMs = options.intervalMs
        configuration.encoding = options.encoding
        configuration.failFast = true
        if let token = options.token {
            configuration.credential = .token(token)
        } else if let path = options.tokenFile {
            _ = try readToken(path)   // a missing file is an error now, not at the first connection
            configuration.credential = .provider { try readToken(path) }
        }
        if urls.contains(where: \.isSecure) {
            configuration.security = try TLSSecurity(caFile: options.caFile)
        }
        let client = AsyncTickerClient(configuration)
        if let seconds = options.seconds {
            Task {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                client.close()
            }
        }
        let outcome = Mutex<Result<Int32, any Error>>(.success(0))
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<Int32, any Error>
            do {
                result = .success(try await consume(client, options))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0 }.get()
    }

    private static func consume(_ client: AsyncTickerClient, _ options: Options) async throws -> Int32 {
        var names: [UInt32: String] = [:]
        var printed = 0
        var status: Int32 = 0
        for try await event in client.events {
            switch event {
            case .connected(let url, let reconnect):
                if reconnect { note("reconnected to \(url)") }
            case .subscribed(let refs):
                for ref in refs { names[ref.id] = ref.symbol }
            case .resumed(let symbols):
                note("resumed \(symbols.joined(separator: ",")): missed updates follow, no gap")
            case .unsubscribed(let symbols, let reason):
                note("the server ended \(symbols.joined(separator: ",")) (\(reason))")
            case .reset(let symbol):
                note("reset \(symbol): the server no longer holds what was missed; a snapshot follows")
            case .gap(let symbol, let expected, let received):
                note("GAP \(symbol): expected seq \(expected), got \(received)")
            case .decodeError(let why):
                note("undecodable message: \(why); reconnecting to resume")
            case .error(let error):
                note("server error \(error.code.rawValue): \(error.message)")
                status = 1
                client.close()
            case .disconnected(let reason, let retry):
                if let retry {
                    note("disconnected: \(reason); reconnecting in \(retry / 1_000_000) ms")
                } else {
                    note("server closed the connection: \(reason)")
                    if !(reason.hasSuffix("(code 1000)") || reason.hasSuffix("(code 1001)")) { status = 1 }
                }
            case .ticks(_, let ticks):
                for tick in ticks {
                    let name = names[tick.symbolId] ?? "#\(tick.symbolId)"
                    // One write per line: a pipe reader sees each tick as it arrives.
                    let line = options.json ? TickFormat.json(tick, symbol: name) : TickFormat.line(tick, symbol: name)
                    do {
                        try FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
                    } catch {
                        client.close()
                        return 0   // the reader went away (e.g. `| head`): a normal end
                    }
                    printed += 1
                    if let count = options.count, printed >= count {
                        client.close()
                        return 0
                    }
                }
            }
        }
        return status
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
