import Dispatch
import Foundation
import PosixIO
import Synchronization

/// An event loop on a thread of its own, and the way to run code on it and
/// wait: what `Fleet` and `ProbeFleet` are built on.
///
/// `loop` is set on the loop's thread before `init` returns and never again,
/// and everything else runs on that thread: hence `@unchecked Sendable`.
final class LoopThread: @unchecked Sendable {
    private(set) var loop: EventLoop!
    /// The object whose connections the loop serves, kept alive as long as
    /// the loop runs (for the process's life): those connections hold it
    /// `unowned`, and an event after it was freed would be a crash.
    private var owner: AnyObject?

    init(name: String) {
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            loop = try! EventLoop()
            started.signal()
            loop.run()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    /// Keeps `owner` alive while the loop runs (see `owner`); call once, from its init.
    func keepAlive(_ owner: AnyObject) { self.owner = owner }

    /// Runs `body` on the loop's thread and waits for it.
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
}
