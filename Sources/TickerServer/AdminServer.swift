import Foundation
import HTTP
import PosixIO
import Synchronization

/// `/healthz` and `/metrics` on a port of their own (`--admin-port`), served
/// by a thread of their own: an operator's probe never waits behind a
/// connect storm.
///
/// On the main port a probe's SYN joins the kernel's accept queue behind
/// every client that connected before it; a 15,000-connection burst keeps it
/// there for 100-250 ms however promptly the loops answer once they have it
/// (`TickerBench fault-storm`). The admin listener's queue holds probes only,
/// and its thread sleeps in `poll` until one comes, so the scheduler runs it
/// ahead of the busy loop threads. The same split as NATS' monitoring port.
///
/// One request per connection, answered in turn: an admin client is a probe
/// or a scraper, never a crowd. Each connection has `requestDeadlineMs` to
/// send its head and take its answer, so a stalled peer delays the next
/// probe by at most that long.
final class AdminServer: Sendable {
    static let requestDeadlineMs = 1_000

    let port: UInt16
    private let listenFD: Int32
    private let shared: ServerShared
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchGroup()

    init(host: String, port: UInt16, shared: ServerShared) throws(TickerServerError) {
        do throws(SystemError) {
            listenFD = try Syscall.listen(host: host, port: port, backlog: 128, reusePort: false)
        } catch {
            if error.isAddressInUse { throw TickerServerError.adminPortInUse(host: host, port: port) }
            throw TickerServerError.listen(host: host, port: port, error)
        }
        self.port = Syscall.localPort(listenFD)
        self.shared = shared
    }

    func start() {
        done.enter()
        let thread = Thread { [self] in
            serve()
            Syscall.close(listenFD)
            done.leave()
        }
        thread.name = "ticker-admin"
        thread.start()
    }

    /// Stops accepting (within 100 ms) and waits for the thread.
    func stop() {
        stopping.store(true, ordering: .releasing)
        done.wait()
    }

    private func serve() {
        while !stopping.load(ordering: .acquiring) {
            guard (try? Syscall.poll(listenFD, for: .read, timeoutMs: 100)) == true else { continue }
            while let fd = try? Syscall.accept(listenFD) {
                answer(fd)
                Syscall.close(fd)
            }
        }
    }

    /// Reads one request head and writes its answer, within the deadline.
    private func answer(_ fd: Int32) {
        let deadline = Clock.now() + .milliseconds(Self.requestDeadlineMs)
        var parser = HTTPRequestParser(maxHeaderBytes: 8192, maxHeaderCount: 100)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var outcome: HTTPRequestParser.Result = .needMore
        while case .needMore = outcome {
            guard wait(fd, .read, until: deadline) else { return }
            let result = buffer.withUnsafeMutableBytes { try? Syscall.read(fd, into: $0) }
            switch result {
            case .processed(let n)? where n > 0:
                outcome = buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            case .wouldBlock?: continue
            default: return   // closed or failed before a whole head
            }
        }
        let response: HTTPResponse
        var includeBody = true
        switch outcome {
        case .complete(let head, _):
            includeBody = head.method != "HEAD"
            response = route(head)
        case .failed(let error):
            response = Connection.textResponse(status: error.status, text: error.reason)
        case .needMore:
            return
        }
        let bytes = Connection.closing(response).serialize(includeBody: includeBody)
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { try? Syscall.send(fd, UnsafeRawBufferPointer(rebasing: $0[sent...])) }
            switch result {
            case .processed(let n)?: sent += n
            case .wouldBlock?: guard wait(fd, .write, until: deadline) else { return }
            case nil: return
            }
        }
    }

    private func route(_ head: HTTPRequestHead) -> HTTPResponse {
        guard head.method == "GET" || head.method == "HEAD" else {
            return Connection.textResponse(status: 405, text: "only GET and HEAD", extraHeaders: [("Allow", "GET, HEAD")])
        }
        if let probe = Probes.response(path: head.path, shared: shared) { return probe }
        return Connection.textResponse(status: 404, text: "the admin port serves /healthz, /livez, /readyz and /metrics")
    }

    private func wait(_ fd: Int32, _ interest: Syscall.PollInterest, until deadline: Instant) -> Bool {
        let left = (deadline - Clock.now()).rawValue / 1_000_000
        guard left > 0 else { return false }
        return (try? Syscall.poll(fd, for: interest, timeoutMs: Int32(clamping: left))) == true
    }
}
