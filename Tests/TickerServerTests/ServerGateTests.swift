import Synchronization
import TestSupport
import Testing

/// The gate that keeps server tests from starving each other (a private
/// instance, so these tests do not hold the real one).
@Suite struct ServerGateTests {
    final class Events: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ event: String) { list.withLock { $0.append(event) } }
        var all: [String] { list.withLock { $0 } }
    }

    @Test func exclusiveWaitsForSharedAndSharedQueuesBehindAWaitingExclusive() async {
        let gate = ServerGate()
        let events = Events()
        await gate.acquire(.shared)
        let exclusive = Task {
            await gate.acquire(.exclusive)
            events.add("exclusive")
            await gate.release(.exclusive)
        }
        // Let the exclusive request queue up, then a later shared one.
        while await gate.waiting == 0 { await Task.yield() }
        let lateShared = Task {
            await gate.acquire(.shared)
            events.add("late shared")
            await gate.release(.shared)
        }
        while await gate.waiting < 2 { await Task.yield() }
        #expect(events.all.isEmpty, "nobody passes while the first shared holder is in")
        events.add("first shared out")
        await gate.release(.shared)
        await exclusive.value
        await lateShared.value
        #expect(events.all == ["first shared out", "exclusive", "late shared"])
    }
}
