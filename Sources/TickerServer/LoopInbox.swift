import FanoutHub
import MarketData
import PosixIO
import Synchronization

/// Batches waiting for one event loop. The feed (and ingest) append and
/// wake the loop; the loop takes everything at once. One lock per batch per
/// loop, never per tick or per subscriber.
///
/// Bounded: a loop that falls behind does not queue the feed without end.
/// Past `maxPendingTicks` (`OverloadPolicy.maxPendingTicksPerLoop`), the
/// oldest batches are folded into one slot per symbol (the newest tick,
/// with the count of updates it swallowed, flagged conflated), the same
/// declared-gap rule a slow connection gets. Memory is
/// then at most `maxPendingTicks` ticks plus one tick per symbol, and the
/// loop's next round is bounded work however long it was busy.
final class LoopInbox: Sendable {
    struct Taken {
        /// Newest tick per symbol of the folded batches, older than `batches`.
        var folded: [Tick] = []
        var batches: [TickBatch] = []
        /// Monotonic time the oldest of these was posted (0 when empty).
        var oldestPostedNanos: UInt64 = 0
        var isEmpty: Bool { folded.isEmpty && batches.isEmpty }
    }

    private struct State {
        var batches: [TickBatch] = []
        var pendingTicks = 0
        var slots: [Tick?]
        var slotOrder: [UInt32] = []
        var oldestPostedNanos: UInt64 = 0
    }

    private let state: Mutex<State>
    let waker: EventLoopWaker
    let maxPendingTicks: Int
    /// Updates swallowed by folding at this level, ever.
    let foldedUpdates = Atomic<UInt64>(0)
    /// When the oldest waiting batch was posted (monotonic ns; 0: none):
    /// readable from any thread, so `/healthz` sees a loop that is stuck.
    let oldestPendingNanos = Atomic<UInt64>(0)
    /// Ticks currently waiting (gauge).
    let pendingTicks = Atomic<Int>(0)
    /// Set by the loop when its last round started more than
    /// `OverloadPolicy.inboxLateness` late: then every batch is folded on
    /// arrival, so the next round is at most one record per symbol, the
    /// smallest round that still declares everything.
    let behind = Atomic<Bool>(false)

    init(waker: EventLoopWaker, symbolCount: Int, maxPendingTicks: Int) {
        self.waker = waker
        self.maxPendingTicks = max(1, maxPendingTicks)
        state = Mutex(State(slots: Array(repeating: nil, count: symbolCount)))
    }

    func post(_ batch: TickBatch) {
        guard batch.count > 0 else { return }
        let wasEmpty = state.withLock { st -> Bool in
            let wasEmpty = st.batches.isEmpty && st.slotOrder.isEmpty
            if wasEmpty {
                st.oldestPostedNanos = Clock.monotonicNanos()
                oldestPendingNanos.store(st.oldestPostedNanos, ordering: .relaxed)
            }
            st.batches.append(batch)
            st.pendingTicks += batch.count
            // Past the bound the oldest batches fold, the newest too if it
            // alone is over (a feed far faster than the machine makes batches
            // of 16,384 ticks: one such batch to 1,000 full-universe clients
            // is 16 M record copies, seconds of one loop, while folded it is
            // at most one record per symbol). A loop that is behind folds
            // everything: its next round is one record per symbol at most.
            let bound = behind.load(ordering: .relaxed) ? 0 : maxPendingTicks
            while st.pendingTicks > bound && !st.batches.isEmpty {
                let oldest = st.batches.removeFirst()
                st.pendingTicks -= oldest.count
                fold(oldest, into: &st)
            }
            pendingTicks.store(st.pendingTicks + st.slotOrder.count, ordering: .relaxed)
            return wasEmpty
        }
        // The loop takes everything on one wake-up, so only the first post
        // after a take needs to wake it.
        if wasEmpty { waker.wake() }
    }

    private func fold(_ batch: TickBatch, into st: inout State) {
        var swallowed: UInt64 = 0
        for tick in batch.ticks {
            let id = Int(tick.symbolId)
            guard id < st.slots.count else { continue }
            if let old = st.slots[id] {
                st.slots[id] = LoopHub.conflate(old, with: tick)
                swallowed &+= 1
            } else {
                st.slots[id] = tick
                st.slotOrder.append(tick.symbolId)
            }
        }
        foldedUpdates.wrappingAdd(swallowed, ordering: .relaxed)
    }

    func takeAll() -> Taken {
        state.withLock { st in
            var taken = Taken()
            guard !st.batches.isEmpty || !st.slotOrder.isEmpty else { return taken }
            taken.oldestPostedNanos = st.oldestPostedNanos
            taken.batches = st.batches
            st.batches.removeAll(keepingCapacity: true)
            if !st.slotOrder.isEmpty {
                taken.folded.reserveCapacity(st.slotOrder.count)
                for id in st.slotOrder {
                    taken.folded.append(st.slots[Int(id)]!)
                    st.slots[Int(id)] = nil
                }
                st.slotOrder.removeAll(keepingCapacity: true)
            }
            st.pendingTicks = 0
            st.oldestPostedNanos = 0
            oldestPendingNanos.store(0, ordering: .relaxed)
            pendingTicks.store(0, ordering: .relaxed)
            return taken
        }
    }

    /// How long the oldest waiting batch has waited, in ns (0 when none).
    func lagNanos(now: UInt64) -> UInt64 {
        let since = oldestPendingNanos.load(ordering: .relaxed)
        return since == 0 || now < since ? 0 : now - since
    }
}
