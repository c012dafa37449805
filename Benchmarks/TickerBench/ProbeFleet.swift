import BenchSupport
import Dispatch
import Foundation
import MarketData
import PosixIO
import Synchronization
import WebSocketProtocol
#if canImport(Glibc)
import Glibc
#endif
/// How a probe connection reads once it is ready (welcome and ack read).
enum ReadMode: Sendable, Equatable {
    /// Everything, as fast as it arrives.
    case full
    /// Nothing at all (a stuck reader); only a peer FIN/reset is noted.
    case paused
    /// At most this many bytes per timer tick (a slow reader).
    case budget(Int)
}

/// What one probe connection saw, copied out of the fleet thread.
struct ProbeSummary: Sendable {
    var id: Int
    var readyAt: UInt64 = 0
    /// The server's answer to the upgrade (101, or a refusal).
    var response: FaultParsing.ResponseHead?
    var closeCode: Int?
    var closeAt: UInt64 = 0
    /// Bytes read since the last resume (or since the 101) before the close frame.
    var bytesBeforeClose: Int?
    var eofAt: UInt64 = 0
    var error: String?
    var errorAt: UInt64 = 0
    /// A FIN or reset noticed while the reader was paused.
    var pausedEvent: String?
    var pausedEventAt: UInt64 = 0
    var bytes = 0
    /// `bytes` when the reader last resumed (stuck readers).
    var bytesAtResume = 0
    var records = 0
    var conflatedRecords = 0
    var pings = 0
    var check: StrictSequenceCheck?
    /// Largest record age (receipt wall clock - event time) from `ageFrom` on.
    var maxAgeNs: Int64 = 0
    var recordsAfterAgeFrom = 0
    var ageFrom: UInt64 = 0
    var texts: [String] = []

    var isReady: Bool { readyAt != 0 }
    /// Closed in any way (close frame, EOF, error).
    var isClosed: Bool { closeCode != nil || eofAt != 0 || error != nil }
    var outcome: String {
        if let code = closeCode { return "close \(code)" }
        if let error { return error }
        if eofAt != 0 { return "EOF without close frame" }
        return "open"
    }
}

/// Measurements of a window (since the previous `takeWindow`).
struct ProbeWindow: Sendable {
    var histogram: LatencyHistogram?
    var records = 0
    /// Largest record age at receipt, and largest staleness seen by the timer
    /// (now - newest event time held), over connections past their `ageFrom`.
    var maxAgeNs: Int64 = 0
    var maxStaleNs: Int64 = 0
}

/// A few to 10,000 WebSocket clients on one epoll thread, like `Fleet`, but
/// keeping per-connection outcomes: close code and time, bytes before the
/// close frame, record ages, the strict sequence rule, HTTP refusals. The
/// fault suite uses `Fleet` for the crowds that only need to be there.
final class ProbeFleet: @unchecked Sendable {
    let symbolCount: Int
    let recordLatency: Bool
    let checkSequence: Bool
    let readyCount = Atomic<Int>(0)
    let finishedCount = Atomic<Int>(0)
    private let thread: LoopThread
    private var loop: EventLoop { thread.loop }
    var connections: [ProbeConnection] = []
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    var window = ProbeWindow()
    private var timerStarted = false

    init(name: String, symbolCount: Int, recordLatency: Bool = false, checkSequence: Bool = false) {
        self.symbolCount = symbolCount
        self.recordLatency = recordLatency
        self.checkSequence = checkSequence
        if recordLatency { window.histogram = LatencyHistogram() }
        thread = LoopThread(name: name)
        thread.keepAlive(self)
    }

    func sync<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T { thread.sync(body) }

    /// Starts one connection per target ("/v1/stream?symbols=A,B"); returns their ids.
    /// `ready` = the welcome (and, with `symbols=`, the subscribe ack) arrived.
    @discardableResult
    func open(port: UInt16, targets: [String], receiveBuffer: Int = 0, after mode: ReadMode = .full,
              ageFromSeconds: Double = 0) -> [Int] {
        sync { [self] in
            var ids: [Int] = []
            for target in targets {
                let c = ProbeConnection(
                    fleet: self, id: connections.count, target: target,
                    readyTexts: target.contains("symbols=") ? 2 : 1, modeAfterReady: mode,
                    ageFromNanos: UInt64(ageFromSeconds * 1e9))
                if checkSequence { c.summary.check = StrictSequenceCheck(symbolCount: symbolCount) }
                connections.append(c)
                ids.append(c.summary.id)
                do {
                    c.fd = try Syscall.connect(
                        host: "127.0.0.1", port: port, from: LoopbackSources.address(connections.count),
                        receiveBuffer: receiveBuffer)
                    c.token = try loop.register(fd: c.fd, events: EpollEvents.writable, handler: c)
                    c.registered = true
                } catch {
                    c.fail("connect: \(error)")
                }
            }
            return ids
        }
    }

    /// Waits until `count` connections are ready or finished; false on timeout.
    func waitReady(_ count: Int, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while readyCount.load(ordering: .relaxed) + finishedCount.load(ordering: .relaxed) < count {
            if Date() > end { return false }
            usleep(2_000)
        }
        return true
    }

    /// Waits until `count` connections have ended (EOF, error or refusal).
    func waitFinished(_ count: Int, timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while finishedCount.load(ordering: .relaxed) < count {
            if Date() > end { return false }
            usleep(2_000)
        }
        return true
    }

    /// Changes how the given connections read from now on.
    func setMode(_ ids: [Int], _ mode: ReadMode) {
        sync { [self] in
            for id in ids { connections[id].apply(mode) }
        }
    }

    /// A repeating timer: budget reads, staleness, every `milliseconds`.
    func startTimer(milliseconds: Int) {
        sync { [self] in
            guard !timerStarted else { return }
            timerStarted = true
            try? loop.addRepeatingTimer(intervalNanos: UInt64(milliseconds) * 1_000_000) { [unowned self] in tick() }
        }
    }

    private func tick() {
        let wall = Int64(bitPattern: Clock.wallNanos())
        let now = Clock.monotonicNanos()
        for c in connections where c.fd >= 0 {
            if case .budget(let n) = c.mode, c.isReady { c.readBudget(n) }
            if c.lastEventNs != 0 && c.fd >= 0 && now >= c.summary.ageFrom {
                window.maxStaleNs = max(window.maxStaleNs, wall - c.lastEventNs)
            }
        }
    }

    func takeWindow() -> ProbeWindow {
        sync { [self] in
            let w = window
            window = ProbeWindow()
            if recordLatency { window.histogram = LatencyHistogram() }
            return w
        }
    }

    func summaries() -> [ProbeSummary] {
        sync { [self] in connections.map(\.summary) }
    }

    func summaries(_ ids: [Int]) -> [ProbeSummary] {
        sync { [self] in ids.map { connections[$0].summary } }
    }

    /// Closes every connection still open (abruptly: no close handshake).
    func closeAll() {
        sync { [self] in
            for c in connections where c.fd >= 0 { c.release() }
        }
    }

    func unregister(_ c: ProbeConnection) {
        if c.registered { loop.unregister(fd: c.fd, token: c.token) }
        c.registered = false
    }

    func register(_ c: ProbeConnection, events: UInt32) {
        if c.registered {
            try? loop.modify(fd: c.fd, token: c.token, events: events)
        } else if let token = try? loop.register(fd: c.fd, events: events, handler: c) {
            c.token = token
            c.registered = true
        }
    }
}

