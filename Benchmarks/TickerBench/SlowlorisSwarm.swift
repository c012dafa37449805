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
