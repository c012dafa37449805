import Foundation
import PosixIO
import Synchronization
import Testing

/// `EventLoop.wake(at:)`: the loop's own deadline, kept by `epoll_wait`'s
/// timeout (the round pacer's wake-up), never early, the earliest winning.
@Suite struct EventLoopWakeTests {
    /// Runs a loop on its own thread; `arm` runs on it once; returns the
    /// monotonic times `onWake` ran at (eventfd wake-ups included) until `stopAfter`.
    private func run(arm: @escaping @Sendable (EventLoop) -> Void, for stopAfter: Nanoseconds) throws -> (armed: Instant, wakes: [Instant]) {
        let loop = try EventLoop()
        let wakes = Mutex<[Instant]>([])
        let armedAt = Mutex<Instant?>(nil)
        loop.onWake = { wakes.withLock { $0.append(Clock.now()) } }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let unsafeLoop = loop
        let thread = Thread {
            unsafeLoop.run()
            done.signal()
        }
        thread.start()
        loop.waker.execute { loop in
            armedAt.withLock { $0 = Clock.now() }
            arm(loop)
        }
        usleep(UInt32(stopAfter.rawValue / 1_000))
        loop.waker.stop()
        done.wait()
        return (armedAt.withLock { $0! }, wakes.withLock { $0 })
    }

    @Test func firesOnceAfterTheDeadline() throws {
        let (armed, wakes) = try run(arm: { loop in loop.wake(at: Clock.now() + .milliseconds(30)) }, for: .milliseconds(300))
        let late = wakes.filter { $0 >= armed + .milliseconds(30) }
        #expect(late.count >= 1, "the deadline woke the loop")
        #expect(wakes.filter { $0 > armed && $0 < armed + .milliseconds(30) && $0 != wakes.first }.isEmpty,
                "never early: only the arming wake-up itself came before the deadline")
        if let first = late.first { #expect(first - armed < .milliseconds(250), "and not long after it") }
    }

    @Test func theEarliestDeadlineWins() throws {
        let (armed, wakes) = try run(arm: { loop in
            loop.wake(at: Clock.now() + .milliseconds(200))
            loop.wake(at: Clock.now() + .milliseconds(20))
        }, for: .milliseconds(120))
        // Before the stop's own wake-up at 120 ms.
        let fired = wakes.filter { $0 >= armed + .milliseconds(20) && $0 < armed + .milliseconds(110) }
        #expect(fired.count == 1, "the 20 ms deadline fired once; the later one was replaced")
    }
}
