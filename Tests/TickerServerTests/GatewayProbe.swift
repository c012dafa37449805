import Foundation
import MarketData
import TickerClient

/// One client of a gateway test and its own sequence checker: per symbol, a
/// snapshot (or the first record) is the baseline, then every record must be
/// `previous + 1 + conflatedCount`. A conflated record with a count is a
/// declared gap, a snapshot after the baseline a declared reset; anything else
/// is a violation (a backwards sequence is one too).
final class GatewayProbe {
    let client: TickerClient
    let gateway: Int
    var wanted: Set<UInt32> = []
    var acked = false
    var welcomeEpoch: UInt64?
    /// The server closed the connection (or it failed).
    var closed = false
    var records = 0
    var declaredGaps = 0
    var resets = 0
    var backwards = 0
    var violations = 0
    var violationSamples: [String] = []
    var foreign = 0
    /// Latest snapshot record per symbol.
    var snapshots: [UInt32: Tick] = [:]
    private(set) var previous: [UInt32: UInt64] = [:]
    func lastSeen(_ symbol: UInt32) -> UInt64? { previous[symbol] }
    /// Sees every record, flags and count cleared (for cross-client comparison).
    var compare: ((Tick) -> Void)?

    init(_ client: TickerClient, gateway: Int) {
        self.client = client
        self.gateway = gateway
    }

    convenience init(port: UInt16, gateway: Int, symbols: Set<UInt32>, names: (UInt32) -> String) throws {
        self.init(try TickerClient(url: TickerURL(host: "127.0.0.1", port: port)), gateway: gateway)
        wanted = symbols
        try client.subscribe(symbols.sorted().map(names), id: 1)
    }

    func pump() {
        guard !closed else { return }
        do {
            while let event = try client.next(timeoutMs: 0) {
                switch event {
                case .control(.welcome(let info)): welcomeEpoch = info.epoch
                case .control(.subscribed): acked = true
                case .ticks(_, let ticks): for t in ticks { observe(t) }
                case .closed: closed = true; return
                default: continue
                }
            }
        } catch {
            closed = true
        }
    }

    private func observe(_ t: Tick) {
        records += 1
        if !wanted.contains(t.symbolId) { foreign += 1 }
        let id = t.symbolId
        if t.flags.contains(.snapshot) {
            if previous[id] != nil { resets += 1 }
            snapshots[id] = t
        } else if let prev = previous[id] {
            let expected = SequenceRule.expected(after: prev, conflatedCount: t.conflatedCount)
            if t.sequence <= prev { backwards += 1 }
            if t.sequence != expected {
                violations += 1
                if violationSamples.count < 5 { violationSamples.append("symbol \(id): after \(prev) got \(t.sequence) (count \(t.conflatedCount))") }
            } else if t.conflatedCount > 0 {
                declaredGaps += 1
            }
        }
        previous[id] = t.sequence
        if let compare {
            var plain = t
            plain.flags = []
            plain.conflatedCount = 0
            compare(plain)
        }
    }
}

/// Same symbol and sequence → same values, whichever client or gateway got it.
final class RecordReference {
    private(set) var bySymbol: [UInt32: [UInt64: Tick]] = [:]
    private(set) var compared = 0
    private(set) var mismatches: [String] = []

    func check(_ t: Tick) {
        if let seen = bySymbol[t.symbolId]?[t.sequence] {
            compared += 1
            if seen != t, mismatches.count < 5 { mismatches.append("\(t.symbolId)#\(t.sequence): \(seen) vs \(t)") }
        } else {
            bySymbol[t.symbolId, default: [:]][t.sequence] = t
        }
    }

    func newest(_ symbol: UInt32) -> UInt64? { bySymbol[symbol]?.keys.max() }
}

extension GatewayProbe {
    /// Pumps every probe for `seconds`.
    static func pump(_ probes: [GatewayProbe], _ seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            for p in probes { p.pump() }
            usleep(2_000)
        }
    }

    static func healthz(_ port: UInt16) throws -> String {
        let s = try RawSocket(port: port)
        try s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try s.read(timeoutMs: 2_000)
        return s.text
    }
}

/// Pumps probes on a thread of its own, so the test thread may block (start or
/// stop a process, wait for Redis) without the clients falling silent: a
/// client that stops reading for 10 s is closed by the server (4001), which
/// is the server doing its job, not a gateway fault. Every access to the
/// probes goes through `read` (one lock).
final class ProbePump: @unchecked Sendable {
    private let lock = NSLock()
    private var probes: [GatewayProbe]
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(_ probes: [GatewayProbe]) {
        self.probes = probes
        let thread = Thread { [self] in
            while true {
                lock.lock()
                let go = running
                if go { for p in self.probes { p.pump() } }
                lock.unlock()
                if !go { break }
                usleep(2_000)
            }
            done.signal()
        }
        thread.name = "gateway-probe-pump"
        thread.start()
    }

    func add(_ more: [GatewayProbe]) { read { _ in probes += more } }

    func read<T>(_ body: ([GatewayProbe]) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(probes)
    }

    func sum(_ f: (GatewayProbe) -> Int) -> Int { read { $0.reduce(0) { $0 + f($1) } } }

    /// Waits up to `seconds` for `condition` (checked every 50 ms); its last answer.
    @discardableResult
    func wait(upTo seconds: Double, until condition: ([GatewayProbe]) -> Bool = { _ in false }) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if read(condition) { return true }
            usleep(50_000)
        }
        return read(condition)
    }

    func stop() {
        lock.lock()
        let was = running
        running = false
        lock.unlock()
        if was { done.wait() }
    }

    deinit { stop() }
}
