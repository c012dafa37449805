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

    /// Prints the figures and checks "answers within 100 ms throughout";
    /// with `criterion: false` prints them only.
    static func report(_ samples: [Sample], into verdicts: Verdicts, limitMs: Double = 100,
                       label: String = "/healthz", criterion: Bool = true) {
        let late = samples.filter { $0.failure != nil || Double($0.latencyNs) / 1e6 > limitMs }
        var statuses: [Int: Int] = [:]
        for s in samples { if let st = s.status { statuses[st, default: 0] += 1 } }
        let sorted = samples.filter { $0.failure == nil }.map { Double($0.latencyNs) / 1e6 }.sorted()
        let p99 = percentile(sorted: sorted, 0.99).map { String(format: "%.1f ms", $0) } ?? "n/a"
        let max = sorted.last.map { String(format: "%.1f ms", $0) } ?? "n/a"
        let statusText = statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        Say.timed("  \(label): \(samples.count) probes, answered \(sorted.count) (\(statusText)), p99 \(p99), max \(max)")
        for s in samples.filter({ $0.status != nil && $0.status != 200 }).prefix(3) {
            Say.line("    t=\(secs(s.at)) status \(s.status!) \"\(s.body)\"  [load \(s.load)]")
        }
        for s in late.prefix(8) {
            let what = s.failure ?? String(format: "status %d after %.1f ms", s.status ?? 0, Double(s.latencyNs) / 1e6)
            Say.line("    late/failed t=\(secs(s.at)): \(what)  [load \(s.load)]")
        }
        if late.count > 8 { Say.line("    ... \(late.count - 8) more") }
        guard criterion else {
            Say.line("    (reported, not a criterion: \(samples.count - late.count) of \(samples.count) within \(Int(limitMs)) ms)")
            return
        }
        verdicts.check(!samples.isEmpty && late.isEmpty, "\(label) answered within \(Int(limitMs)) ms every 250 ms throughout",
                       "\(samples.count - late.count) of \(samples.count) on time, max \(max)")
    }
}

