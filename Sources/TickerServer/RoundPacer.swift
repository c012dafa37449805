import PosixIO

/// When a loop may start its next fan-out round: the answer to "sends, not
/// ticks, are the cost".
///
/// A round writes once to every connection that got news, so a loop's
/// sends per second are its rounds per second times the connections each
/// reaches. Where many sockets get a little news each (5,000 readers of two
/// symbols), a round every millisecond makes one send per record or two,
/// the loop's pass over its sockets never ends before the next round, and
/// the readers, on the same cores over loopback, fall behind reading
/// thousands of tiny messages. Nothing is gained by sending that often:
/// the same records in fewer, larger messages cost a fraction of the CPU
/// on both ends.
///
/// So a loop that is **saturated by its sends** (writing the last round
/// took at least `pacedWriteMinimum` of the loop's time, counted inside its
/// flush slices only, and ticks were already waiting when it ended) starts
/// its next round no sooner than `pacingStretch` times that writing time after the
/// last round began: sends then take at most about half of the loop's time,
/// and each send carries what arrived meanwhile. The interval follows the
/// cost (more sockets with news, longer writing, a longer interval, more
/// records per send) up to `pacedIntervalMaximum`, well inside the inbox's
/// freshness limit (`inboxLateness`); all three are `OverloadPolicy`'s. Writing time, not the pass's
/// wall time: a pass spread over many 1 ms slices, or preempted, would
/// otherwise read as expensive and slow the loop down for nothing. A loop
/// whose writes end with nothing waiting (a lone update, a closed-loop
/// publisher, a light feed) starts the next round the moment it arrives.
struct RoundPacer {
    let minPacedPass: Nanoseconds
    let maxInterval: Nanoseconds
    let stretch: UInt64

    init(_ policy: OverloadPolicy) {
        minPacedPass = policy.pacedWriteMinimum
        maxInterval = policy.pacedIntervalMaximum
        stretch = policy.pacingStretch
    }

    /// The earliest start of the next round; nil: whenever work arrives.
    private(set) var earliestNextRound: Instant?

    /// Called when the last round's writes are all done; `sendTime`: the
    /// loop's time spent writing them; `workWaiting`: ticks for the next
    /// round had arrived by then.
    mutating func passFinished(roundBegan: Instant, sendTime pass: Nanoseconds, workWaiting: Bool) {
        guard workWaiting, pass >= minPacedPass else {
            earliestNextRound = nil
            return
        }
        earliestNextRound = roundBegan + min(maxInterval, Nanoseconds(pass.rawValue &* stretch))
    }

    /// The interval the next round keeps after the last began (zero when unpaced), for `/metrics`.
    func interval(since roundBegan: Instant) -> Nanoseconds {
        guard let next = earliestNextRound, next > roundBegan else { return .zero }
        return next - roundBegan
    }

    func mayStartRound(at now: Instant) -> Bool {
        guard let next = earliestNextRound else { return true }
        return now >= next
    }
}
