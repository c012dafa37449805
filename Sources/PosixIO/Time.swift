/// A span of time, in whole nanoseconds. Durations and instants are
/// distinct types so that a deadline is always "instant + duration" and an
/// age always "instant - instant": the compiler refuses the unit slips
/// (milliseconds added to nanoseconds, an instant added to an instant)
/// that raw `UInt64` arithmetic let through.
public struct Nanoseconds: Comparable, Hashable, Sendable {
    public var rawValue: UInt64

    @inline(__always) public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static let zero = Nanoseconds(0)

    /// `ms` milliseconds; negative counts as zero (a setting of -1 ms is no wait, not 584 years).
    @inline(__always) public static func milliseconds(_ ms: Int) -> Nanoseconds {
        Nanoseconds(UInt64(max(0, ms)) &* 1_000_000)
    }

    @inline(__always) public static func seconds(_ s: Int) -> Nanoseconds { milliseconds(s &* 1_000) }

    /// Whole milliseconds, rounded down.
    public var milliseconds: UInt64 { rawValue / 1_000_000 }

    /// As fractional seconds, for histograms and logs.
    public var seconds: Double { Double(rawValue) / 1e9 }

    @inline(__always) public static func < (a: Nanoseconds, b: Nanoseconds) -> Bool { a.rawValue < b.rawValue }
    @inline(__always) public static func + (a: Nanoseconds, b: Nanoseconds) -> Nanoseconds {
        Nanoseconds(a.rawValue &+ b.rawValue)
    }
}

/// A point on the monotonic clock (`CLOCK_MONOTONIC`), which never jumps:
/// deadlines and ages are measured on it. Wall-clock times (tick event and
/// send times, which cross processes) stay plain nanoseconds since the epoch.
public struct Instant: Comparable, Hashable, Sendable {
    /// Nanoseconds since an arbitrary origin (boot).
    public var nanoseconds: UInt64

    @inline(__always) public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// Later than every instant the clock will reach: "no deadline".
    public static let never = Instant(nanoseconds: .max)

    @inline(__always) public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Saturates at `never`, so "no deadline" plus a timeout is still no deadline.
    @inline(__always) public static func + (a: Instant, d: Nanoseconds) -> Instant {
        let (sum, overflow) = a.nanoseconds.addingReportingOverflow(d.rawValue)
        return overflow ? .never : Instant(nanoseconds: sum)
    }

    /// Time from `b` to `a`; zero when `b` is later (an age is never negative).
    @inline(__always) public static func - (a: Instant, b: Instant) -> Nanoseconds {
        Nanoseconds(a.nanoseconds >= b.nanoseconds ? a.nanoseconds - b.nanoseconds : 0)
    }
}
