import Foundation
import PosixIO

/// A value handed between the test thread and a loop thread under a semaphore.
public final class LoopBox<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}

/// An `EventLoop` on its own thread; `sync` runs a closure on it and waits.
public final class LoopThread: @unchecked Sendable {
    public let loop: EventLoop
    private let done = DispatchSemaphore(value: 0)

    public init() throws {
        loop = try EventLoop()
        let thread = Thread { [self] in
            loop.run()
            done.signal()
        }
        thread.name = "test-loop"
        thread.start()
    }

    public func sync<T>(_ body: @escaping (EventLoop) -> T) -> T {
        let result = LoopBox<T?>(nil)
        let work = LoopBox(body)
        let finished = DispatchSemaphore(value: 0)
        loop.waker.execute { loop in
            result.value = work.value(loop)
            finished.signal()
        }
        finished.wait()
        return result.value!
    }

    /// Polls `condition` on the loop thread until true or the timeout.
    public func wait(timeoutMs: Int, _ condition: @escaping (EventLoop) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while Date() < deadline {
            if sync(condition) { return true }
            usleep(5_000)
        }
        return sync(condition)
    }

    public func stop() {
        loop.waker.stop()
        done.wait()
    }
}
