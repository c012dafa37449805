import Foundation
import PosixIO
import Synchronization

/// The one I/O thread every `AsyncTickerClient` of a process shares: an
/// epoll loop (PosixIO's `EventLoop`) serving all their sockets, so a
/// program with hundreds of clients has one thread for them, not hundreds.
/// Started on first use; lives as long as the process.
///
/// Clients reach it only through `execute` (a queue plus an eventfd
/// wake-up); everything in `ClientLoopState` is touched on the loop thread
/// only.
final class ClientRuntime: Sendable {
    static let shared = ClientRuntime()

    private let waker: EventLoopWaker
    private let nextID = Atomic<Int>(1)
    /// Deadline checks (connect/handshake timeouts, reconnect times, idle
    /// connections) are one sweep at this period, not a timer per client.
    static let sweepNanos: UInt64 = 20_000_000

    private init() {
        Syscall.ignoreSIGPIPE()
        let handoff = Mutex<EventLoopWaker?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread {
            let loop: EventLoop
            do {
                loop = try EventLoop()
                let state = ClientLoopState(loop: loop)
                ClientLoopState.current = state
                try loop.addRepeatingTimer(intervalNanos: Self.sweepNanos) { state.sweep() }
            } catch {
                fatalError("ticker client I/O thread cannot start: \(error)")
            }
            handoff.withLock { $0 = loop.waker }
            ready.signal()
            loop.run()
        }
        thread.name = "ticker-client-io"
        thread.start()
        ready.wait()
        waker = handoff.withLock { $0! }
    }

    func makeID() -> Int { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Runs `job` on the I/O thread, soon.
    func execute(_ job: @escaping @Sendable (ClientLoopState) -> Void) {
        waker.execute { _ in
            guard let state = ClientLoopState.current else { return }
            job(state)
        }
    }
}

/// The I/O thread's own state: its loop and its sessions.
final class ClientLoopState {
    /// Set once, on the I/O thread, before any job runs; read only there.
    nonisolated(unsafe) static var current: ClientLoopState?

    let loop: EventLoop
    var sessions: [Int: ClientSession] = [:]
    /// One read buffer for every session: a read is processed before the next.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    init(loop: EventLoop) { self.loop = loop }

    func sweep() {
        let now = Clock.monotonicNanos()
        for session in Array(sessions.values) { session.checkDeadlines(now: now) }
    }
}
