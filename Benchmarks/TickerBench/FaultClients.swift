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
    private var loop: EventLoop!
    fileprivate var connections: [ProbeConnection] = []
    fileprivate let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
    fileprivate var window = ProbeWindow()
    private var timerStarted = false
    private let started = DispatchSemaphore(value: 0)

    init(name: String, symbolCount: Int, recordLatency: Bool = false, checkSequence: Bool = false) {
        self.symbolCount = symbolCount
        self.recordLatency = recordLatency
        self.checkSequence = checkSequence
        if recordLatency { window.histogram = LatencyHistogram() }
        let thread = Thread { [self] in
            loop = try! EventLoop()
            started.signal()
            loop.run()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    func sync<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Mutex<T?>(nil)
        loop.waker.execute { _ in
            box.withLock { $0 = body() }
            done.signal()
        }
        done.wait()
        return box.withLock { $0! }
    }

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

    fileprivate func unregister(_ c: ProbeConnection) {
        if c.registered { loop.unregister(fd: c.fd, token: c.token) }
        c.registered = false
    }

    fileprivate func register(_ c: ProbeConnection, events: UInt32) {
        if c.registered {
            try? loop.modify(fd: c.fd, token: c.token, events: events)
        } else if let token = try? loop.register(fd: c.fd, events: events, handler: c) {
            c.token = token
            c.registered = true
        }
    }
}

/// One probe client. Touched only on its fleet's thread.
final class ProbeConnection: EventHandler {
    unowned let fleet: ProbeFleet
    let target: String
    let readyTexts: Int
    let modeAfterReady: ReadMode
    let ageFromNanos: UInt64
    var fd: Int32 = -1
    var token = EventToken.none
    var registered = false
    var mode: ReadMode = .full
    var summary: ProbeSummary
    private var requestSent = false
    private var handshakeDone = false
    private var closing = false
    private var head: [UInt8] = []
    private var carry: [UInt8] = []
    private var textCount = 0
    private var bytesAtResume = 0
    var lastEventNs: Int64 = 0

    init(fleet: ProbeFleet, id: Int, target: String, readyTexts: Int, modeAfterReady: ReadMode, ageFromNanos: UInt64) {
        self.fleet = fleet
        self.target = target
        self.readyTexts = readyTexts
        self.modeAfterReady = modeAfterReady
        self.ageFromNanos = ageFromNanos
        summary = ProbeSummary(id: id)
        summary.ageFrom = UInt64.max
    }

    var isReady: Bool { summary.readyAt != 0 }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        guard fd >= 0 else { return }
        if !requestSent {
            if let error = Syscall.socketError(fd) { fail("\(error)"); return }
            let request = WebSocketHandshake.clientRequest(host: "127.0.0.1", path: target).bytes
            _ = request.withUnsafeBytes { try? Syscall.send(fd, $0) }
            requestSent = true
            fleet.register(self, events: EpollEvents.readable | EpollEvents.readHangUp)
            return
        }
        switch mode {
        case .full:
            readAll()
        case .paused, .budget:
            // Only a FIN / reset / error is reported here: note it, stop
            // listening (level-triggered epoll would repeat it), keep the data.
            if summary.pausedEvent == nil {
                var what: [String] = []
                if events & EpollEvents.readHangUp != 0 { what.append("FIN") }
                if events & EpollEvents.hangUp != 0 { what.append("HUP") }
                if events & EpollEvents.error != 0 { what.append("ERR") }
                summary.pausedEvent = what.joined(separator: "+")
                summary.pausedEventAt = Clock.monotonicNanos()
            }
            fleet.unregister(self)
        }
    }

    func apply(_ newMode: ReadMode) {
        guard fd >= 0 else { mode = newMode; return }
        let wasFull = mode == .full
        mode = newMode
        switch newMode {
        case .full:
            bytesAtResume = summary.bytes
            summary.bytesAtResume = bytesAtResume
            fleet.register(self, events: EpollEvents.readable | EpollEvents.readHangUp)
            if !wasFull { readAll() }
        case .paused, .budget:
            fleet.register(self, events: EpollEvents.readHangUp)
        }
    }

    private func readAll() {
        let buffer = fleet.readBuffer
        while fd >= 0 && mode == .full {
            let result: IOResult
            do { result = try Syscall.read(fd, into: buffer) } catch { fail("\(error)"); return }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                endOfStream()
                return
            case .processed(let n):
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { return }
            }
        }
    }

    /// One read of at most `budget` bytes (the slow reader's timer tick).
    func readBudget(_ budget: Int) {
        let buffer = UnsafeMutableRawBufferPointer(rebasing: fleet.readBuffer[0..<min(budget, fleet.readBuffer.count)])
        let result: IOResult
        do { result = try Syscall.read(fd, into: buffer) } catch { fail("\(error)"); return }
        switch result {
        case .wouldBlock: return
        case .processed(0): endOfStream()
        case .processed(let n): consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private func endOfStream() {
        summary.eofAt = Clock.monotonicNanos()
        if !handshakeDone && summary.response == nil { summary.error = "EOF before any response" }
        release()
    }

    func fail(_ what: String) {
        if summary.error == nil {
            summary.error = what
            summary.errorAt = Clock.monotonicNanos()
        }
        release()
    }

    func release() {
        guard fd >= 0 else { return }
        fleet.unregister(self)
        Syscall.close(fd)
        fd = -1
        fleet.finishedCount.wrappingAdd(1, ordering: .relaxed)
    }

    private func consume(_ input: UnsafeRawBufferPointer) {
        if !handshakeDone {
            head.append(contentsOf: input)
            switch FaultParsing.responseHead(head) {
            case nil:
                return
            case .failure:
                fail("not an HTTP response: \(String(decoding: head.prefix(40), as: UTF8.self))")
                return
            case .success(let response):
                summary.response = response
                guard response.status == 101 else {
                    // A refusal: the head is what was asked for; hang up.
                    release()
                    return
                }
                handshakeDone = true
                let rest = Array(head[response.length...])
                head = []
                summary.bytes += rest.count
                carry = rest
                let used = carry.withUnsafeBytes { scan($0) }
                carry.removeFirst(min(used, carry.count))
                return
            }
        }
        summary.bytes += input.count
        if carry.isEmpty {
            let used = scan(input)
            if used < input.count && fd >= 0 { carry.append(contentsOf: input[used...]) }
        } else {
            carry.append(contentsOf: input)
            let used = carry.withUnsafeBytes { scan($0) }
            carry.removeFirst(min(used, carry.count))
        }
    }

    /// Scans whole frames in place; returns the bytes consumed.
    private func scan(_ data: UnsafeRawBufferPointer) -> Int {
        var at = 0
        let wall = Int64(bitPattern: Clock.wallNanos())
        let now = Clock.monotonicNanos()
        while data.count - at >= 2 && fd >= 0 {
            guard let frame = FrameExtent.of(data, at: at) else { break }
            let b0 = data[at]
            let length = frame.payloadLength
            let headerSize = frame.headerSize
            let payload = at + headerSize
            if closing { at += headerSize + length; continue }
            switch b0 & 0x0F {
            case 0x2:
                records(UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]), wall: wall, now: now)
            case 0x1:
                textCount += 1
                if summary.texts.count < 4 {
                    summary.texts.append(String(decoding: data[payload..<(payload + min(length, 300))], as: UTF8.self))
                }
                if textCount == readyTexts {
                    summary.readyAt = now
                    summary.ageFrom = now + ageFromNanos
                    fleet.readyCount.wrappingAdd(1, ordering: .relaxed)
                    if modeAfterReady != .full { apply(modeAfterReady) }
                }
            case 0x9:
                summary.pings += 1
                let pong = WebSocketFrameEncoder.encode(
                    opcode: .pong, payload: UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]),
                    maskKey: UInt32.random(in: 1...UInt32.max))
                _ = pong.withUnsafeBytes { try? Syscall.send(fd, $0) }
            case 0x8:
                let code = FaultParsing.closeCode(payload: UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]))
                summary.closeCode = code
                summary.closeAt = now
                // Bytes of the stream read before this frame, since the last resume.
                let consumedBefore = summary.bytes - (data.count - at)
                summary.bytesBeforeClose = max(0, consumedBefore - bytesAtResume)
                closing = true
                // Answer as a browser would; the server then ends the TCP connection.
                let reply = WebSocketFrameEncoder.encodeClose(
                    code: WebSocketCloseCode(rawValue: UInt16(clamping: code)), reason: "",
                    maskKey: UInt32.random(in: 1...UInt32.max))
                _ = reply.withUnsafeBytes { try? Syscall.send(fd, $0) }
            default:
                break
            }
            at += headerSize + length
        }
        return at
    }

    private func records(_ message: UnsafeRawBufferPointer, wall: Int64, now: UInt64) {
        guard message.count >= TickWire.headerSize else { return }
        let count = Int(message.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordCount, as: UInt16.self).littleEndian)
        let size = Int(message.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordSize, as: UInt16.self).littleEndian)
        guard size >= TickWire.recordSize, message.count >= TickWire.headerSize + count * size else { return }
        var r = TickWire.headerSize
        let aged = now >= summary.ageFrom
        var runEvent: Int64 = 0, runLength = 0
        for _ in 0..<count {
            let symbol = Int(message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.symbolId, as: UInt32.self).littleEndian)
            let flags = message[r + TickWire.RecordField.flags]
            let seq = message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.sequence, as: UInt64.self).littleEndian
            let event = Int64(bitPattern: message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.eventTime, as: UInt64.self).littleEndian)
            let conflatedCount = message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.conflatedCount, as: UInt32.self).littleEndian
            summary.check?.check(symbol: symbol, sequence: seq, flags: flags, conflatedCount: conflatedCount)
            if flags & StrictSequenceCheck.conflatedFlag != 0 { summary.conflatedRecords += 1 }
            if event > lastEventNs { lastEventNs = event }
            if aged {
                let age = wall - event
                if age > summary.maxAgeNs { summary.maxAgeNs = age }
                if age > fleet.window.maxAgeNs { fleet.window.maxAgeNs = age }
                summary.recordsAfterAgeFrom += 1
            }
            if fleet.recordLatency {
                if event == runEvent {
                    runLength += 1
                } else {
                    if runLength > 0 { fleet.window.histogram?.record(nanos: wall - runEvent, count: runLength) }
                    runEvent = event
                    runLength = 1
                }
            }
            r += size
        }
        if runLength > 0 { fleet.window.histogram?.record(nanos: wall - runEvent, count: runLength) }
        summary.records += count
        fleet.window.records += count
    }
}

// MARK: - plain HTTP

/// One HTTP GET on a fresh connection, with its timing.
struct HTTPOutcome: Sendable {
    var head: FaultParsing.ResponseHead?
    var body: String?
    /// From connect() to the complete response head.
    var latencyNs: UInt64
    var failure: String?
}

enum HTTPProbe {
    /// Blocking (poll-driven) GET; the head, the body (until EOF), or why not.
    static func get(port: UInt16, path: String, timeout: Double) -> HTTPOutcome {
        let start = Clock.monotonicNanos()
        let deadline = start + UInt64(timeout * 1e9)
        func left() -> Int32 { Int32(max(0, Int64(deadline) - Int64(Clock.monotonicNanos())) / 1_000_000) }
        let fd: Int32
        do { fd = try Syscall.connect(host: "127.0.0.1", port: port) } catch {
            return HTTPOutcome(latencyNs: Clock.monotonicNanos() - start, failure: "\(error)")
        }
        defer { Syscall.close(fd) }
        guard (try? Syscall.poll(fd, for: .write, timeoutMs: left())) == true else {
            return HTTPOutcome(latencyNs: Clock.monotonicNanos() - start, failure: "connect timed out")
        }
        if let error = Syscall.socketError(fd) { return HTTPOutcome(latencyNs: Clock.monotonicNanos() - start, failure: "\(error)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { try? Syscall.send(fd, $0) }
        var bytes: [UInt8] = []
        var head: FaultParsing.ResponseHead?
        var headAt: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            guard (try? Syscall.poll(fd, for: .read, timeoutMs: left())) == true else {
                return HTTPOutcome(head: head, body: nil, latencyNs: (head != nil ? headAt : Clock.monotonicNanos()) - start,
                                   failure: head == nil ? "no answer within \(secs(timeout))" : "body timed out")
            }
            let result: IOResult
            do { result = try buffer.withUnsafeMutableBytes { try Syscall.read(fd, into: $0) } } catch {
                return HTTPOutcome(head: head, latencyNs: Clock.monotonicNanos() - start,
                                   failure: head == nil ? "\(error)" : nil)
            }
            switch result {
            case .wouldBlock:
                continue
            case .processed(0):
                guard let head else {
                    return HTTPOutcome(latencyNs: Clock.monotonicNanos() - start,
                                       failure: bytes.isEmpty ? "EOF without a response" : "EOF in the response head")
                }
                return HTTPOutcome(head: head, body: String(decoding: bytes[head.length...], as: UTF8.self),
                                   latencyNs: headAt - start)
            case .processed(let n):
                bytes += buffer[0..<n]
                if head == nil, let parsed = FaultParsing.responseHead(bytes) {
                    guard case .success(let h) = parsed else {
                        return HTTPOutcome(latencyNs: Clock.monotonicNanos() - start, failure: "not HTTP")
                    }
                    head = h
                    headAt = Clock.monotonicNanos()
                }
            }
        }
    }
}

/// `/healthz` on a fresh connection every 250 ms, on its own thread, each
/// probe timed from connect() to the response head; a slow probe never
/// delays the next one (up to 8 in flight).
final class HealthzPoller: @unchecked Sendable {
    struct Sample: Sendable {
        var at: Double
        var latencyNs: UInt64
        var status: Int?
        var body: String
        var failure: String?
        var load: String
    }

    private let port: UInt16
    private let watch: Stopwatch
    private let stopFlag = Atomic<Bool>(false)
    private let samples = Mutex<[Sample]>([])
    private let done = DispatchSemaphore(value: 0)
    static let timeout = 2.0

    init(port: UInt16, watch: Stopwatch) {
        self.port = port
        self.watch = watch
        let thread = Thread { [self] in run() }
        thread.name = "fault-healthz"
        thread.start()
    }

    private func run() {
        let group = DispatchGroup()
        let queue = DispatchQueue(label: "fault-healthz-probes", attributes: .concurrent)
        let inFlight = Atomic<Int>(0)
        var next = Clock.monotonicNanos()
        while !stopFlag.load(ordering: .relaxed) {
            Clock.sleep(untilMonotonic: next)
            next += 250_000_000
            if stopFlag.load(ordering: .relaxed) { break }
            guard inFlight.load(ordering: .relaxed) < 8 else { continue }
            inFlight.wrappingAdd(1, ordering: .relaxed)
            let at = watch.seconds
            queue.async(group: group) { [self] in
                let o = HTTPProbe.get(port: port, path: "/healthz", timeout: Self.timeout)
                let body = o.body.map { String($0.prefix(120)).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
                samples.withLock {
                    $0.append(Sample(at: at, latencyNs: o.latencyNs, status: o.head?.status, body: body,
                                     failure: o.head == nil ? (o.failure ?? "no response") : nil, load: LoadAverage.now))
                }
                inFlight.wrappingSubtract(1, ordering: .relaxed)
            }
        }
        group.wait()
        done.signal()
    }

    func stop() -> [Sample] {
        stopFlag.store(true, ordering: .relaxed)
        done.wait()
        return samples.withLock { $0 }.sorted { $0.at < $1.at }
    }

    /// Prints the figures and checks "answers within 100 ms throughout".
    static func report(_ samples: [Sample], into verdicts: Verdicts, limitMs: Double = 100) {
        let late = samples.filter { $0.failure != nil || Double($0.latencyNs) / 1e6 > limitMs }
        var statuses: [Int: Int] = [:]
        for s in samples { if let st = s.status { statuses[st, default: 0] += 1 } }
        let sorted = samples.filter { $0.failure == nil }.map { Double($0.latencyNs) / 1e6 }.sorted()
        let p99 = percentile(sorted: sorted, 0.99).map { String(format: "%.1f ms", $0) } ?? "n/a"
        let max = sorted.last.map { String(format: "%.1f ms", $0) } ?? "n/a"
        let statusText = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        Say.timed("  /healthz: \(samples.count) probes, answered \(sorted.count) (\(statusText)), p99 \(p99), max \(max)")
        for s in samples.filter({ $0.status != nil && $0.status != 200 }).prefix(3) {
            Say.line("    t=\(secs(s.at)) status \(s.status!) \"\(s.body)\"  [load \(s.load)]")
        }
        for s in late.prefix(8) {
            let what = s.failure ?? String(format: "status %d after %.1f ms", s.status ?? 0, Double(s.latencyNs) / 1e6)
            Say.line("    late/failed t=\(secs(s.at)): \(what)  [load \(s.load)]")
        }
        if late.count > 8 { Say.line("    ... \(late.count - 8) more") }
        verdicts.check(!samples.isEmpty && late.isEmpty, "/healthz answered within \(Int(limitMs)) ms every 250 ms throughout",
                       "\(samples.count - late.count) of \(samples.count) on time, max \(max)")
    }
}

// MARK: - slowloris

/// Connections that send a request head one byte per second and never finish it.
final class SlowlorisSwarm: @unchecked Sendable {
    struct Outcome: Sendable {
        var establishedAt: UInt64 = 0
        var closedAt: UInt64 = 0
        var how: String = ""
        var bytesSent = 0
        var response: String = ""
        var closedAfter: Double? { closedAt == 0 || establishedAt == 0 ? nil : Double(closedAt - establishedAt) / 1e9 }
    }

    private let port: UInt16
    private let count: Int
    private let maxSeconds: Double
    private let result = Mutex<[Outcome]>([])
    private let done = DispatchSemaphore(value: 0)
    private let stopFlag = Atomic<Bool>(false)
    static let head = Array("GET /v1/stream?symbols=AAPL HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n".utf8)

    /// Starts `count` connections now; each gives up `maxSeconds` after connecting.
    init(port: UInt16, count: Int, maxSeconds: Double) {
        self.port = port
        self.count = count
        self.maxSeconds = maxSeconds
        let thread = Thread { [self] in run() }
        thread.name = "fault-slowloris"
        thread.start()
    }

    private func run() {
        var fds = [Int32](repeating: -1, count: count)
        var outcomes = [Outcome](repeating: Outcome(), count: count)
        var nextSend = [UInt64](repeating: 0, count: count)
        let started = Clock.monotonicNanos()
        for i in 0..<count {
            do { fds[i] = try Syscall.connect(host: "127.0.0.1", port: port, from: LoopbackSources.address(i)) } catch {
                outcomes[i].how = "connect: \(error)"
                outcomes[i].closedAt = Clock.monotonicNanos()
            }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var open = fds.filter { $0 >= 0 }.count
        while open > 0 && !stopFlag.load(ordering: .relaxed) {
            var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            for i in 0..<count where fds[i] >= 0 && outcomes[i].establishedAt == 0 { polls[i].events |= Int16(POLLOUT) }
            _ = poll(&polls, nfds_t(polls.count), 100)
            let now = Clock.monotonicNanos()
            for i in 0..<count where fds[i] >= 0 {
                let fd = fds[i]
                var finished = false
                if outcomes[i].establishedAt == 0 {
                    if polls[i].revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 {
                        if let error = Syscall.socketError(fd) {
                            outcomes[i].how = "connect: \(error)"
                            finished = true
                        } else {
                            outcomes[i].establishedAt = now
                            nextSend[i] = now
                        }
                    } else if now - started > 60_000_000_000 {
                        outcomes[i].how = "connect never completed"
                        finished = true
                    }
                }
                if !finished && polls[i].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && outcomes[i].establishedAt != 0 {
                    // The server answered or hung up: read until EOF/reset.
                    while true {
                        let r = buffer.withUnsafeMutableBytes { try? Syscall.read(fd, into: $0) }
                        if case .processed(let n)? = r, n > 0 {
                            if outcomes[i].response.count < 60 {
                                outcomes[i].response += String(decoding: buffer[0..<min(n, 60)], as: UTF8.self)
                            }
                            continue
                        }
                        if case .wouldBlock? = r { break }
                        finished = true
                        let status = outcomes[i].response.split(separator: " ").dropFirst().first.map(String.init)
                        if r == nil {
                            outcomes[i].how = status.map { "\($0) then reset" } ?? "reset"
                        } else {
                            outcomes[i].how = status.map { "\($0) then EOF" } ?? "EOF"
                        }
                        break
                    }
                }
                if !finished && outcomes[i].establishedAt != 0 && now >= nextSend[i] && outcomes[i].bytesSent < Self.head.count {
                    let byte = [Self.head[outcomes[i].bytesSent]]
                    if case .processed(1)? = byte.withUnsafeBytes({ try? Syscall.send(fd, $0) }) { outcomes[i].bytesSent += 1 }
                    nextSend[i] = now + 1_000_000_000
                }
                if !finished && outcomes[i].establishedAt != 0 && Double(now - outcomes[i].establishedAt) / 1e9 > maxSeconds {
                    outcomes[i].how = "still open after \(Int(maxSeconds)) s"
                    Syscall.close(fd)
                    fds[i] = -1
                    open -= 1
                    continue
                }
                if finished {
                    outcomes[i].closedAt = now
                    Syscall.close(fd)
                    fds[i] = -1
                    open -= 1
                }
            }
        }
        for i in 0..<count where fds[i] >= 0 {
            outcomes[i].how = "still open when stopped"
            Syscall.close(fds[i])
        }
        result.withLock { $0 = outcomes }
        done.signal()
    }

    /// Waits for every connection to end (at most `maxSeconds` after its connect).
    func wait() -> [Outcome] {
        done.wait()
        return result.withLock { $0 }
    }

    func stop() -> [Outcome] {
        stopFlag.store(true, ordering: .relaxed)
        return wait()
    }
}
