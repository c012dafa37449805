/// Binary min-heap of (next event time, symbol id). Every symbol is always in
/// the heap exactly once, so the only operation the feed needs is "replace
/// the earliest entry with the same symbol's next time": O(log n), no
/// allocation after init. Ties break by symbol id to keep ordering total and
/// thus the output deterministic.
struct TickSchedule: Sendable {
    struct Entry: Equatable {
        var timeNs: UInt64
        var symbolId: UInt32

        @inline(__always)
        static func < (a: Entry, b: Entry) -> Bool {
            a.timeNs != b.timeNs ? a.timeNs < b.timeNs : a.symbolId < b.symbolId
        }
    }

    private var heap: [Entry]

    init(_ entries: [Entry]) {
        heap = entries
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    var earliest: Entry? { heap.first }

    var count: Int { heap.count }

    mutating func rescheduleEarliest(at timeNs: UInt64) {
        precondition(!heap.isEmpty, "empty schedule")
        heap[0].timeNs = timeNs
        siftDown(from: 0)
    }

    /// Lets `body` change any entries' times, then restores the heap (O(n)).
    mutating func rescheduleAll(_ body: (inout Entry) -> Void) {
        for i in heap.indices { body(&heap[i]) }
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        let moving = heap[parent]
        while true {
            var child = 2 * parent + 1
            if child >= heap.count { break }
            if child + 1 < heap.count, heap[child + 1] < heap[child] { child += 1 }
            if !(heap[child] < moving) { break }
            heap[parent] = heap[child]
            parent = child
        }
        heap[parent] = moving
    }
}
