/// Latency samples in 1 µs buckets up to 1 s (plus an overflow count and
/// the exact maximum). Recording is an array increment, so the load
/// generator can record every record it receives without sorting millions
/// of samples; percentiles are exact to the microsecond.
public struct LatencyHistogram: Sendable {
    public static let bucketCount = 1_000_000
    private var buckets: [UInt32]
    public private(set) var count: Int = 0
    public private(set) var overflow: Int = 0
    public private(set) var maxNanos: UInt64 = 0
    public private(set) var sumNanos: Double = 0

    public init() {
        buckets = Array(repeating: 0, count: Self.bucketCount)
    }

    /// Records one latency. Negative latencies (clock skew between
    /// processes) count as 0: both ends read the same wall clock here.
    @inline(__always)
    public mutating func record(nanos: Int64, count n: Int = 1) {
        let ns = UInt64(max(0, nanos))
        let micros = Int(ns / 1_000)
        if micros < Self.bucketCount {
            buckets[micros] &+= UInt32(truncatingIfNeeded: n)
        } else {
            overflow += n
        }
        count += n
        sumNanos += Double(ns) * Double(n)
        if ns > maxNanos { maxNanos = ns }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<Self.bucketCount where other.buckets[i] != 0 { buckets[i] &+= other.buckets[i] }
        count += other.count
        overflow += other.overflow
        sumNanos += other.sumNanos
        maxNanos = max(maxNanos, other.maxNanos)
    }

    /// The latency (in µs, upper edge of its bucket) below which `fraction`
    /// of samples fall: nearest-rank. nil without samples.
    public func percentileMicros(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for i in 0..<Self.bucketCount {
            seen += Int(buckets[i])
            if seen >= rank { return Double(i + 1) }
        }
        return Double(maxNanos) / 1_000
    }

    /// The non-empty buckets as (µs, count) pairs plus the exact extras: a
    /// histogram carried from one process to another (`init(sparse:)`).
    public var sparse: SparseHistogram {
        var pairs: [[Int]] = []
        for i in 0..<Self.bucketCount where buckets[i] != 0 { pairs.append([i, Int(buckets[i])]) }
        return SparseHistogram(buckets: pairs, overflow: overflow, maxNanos: maxNanos, sumNanos: sumNanos)
    }

    public init(sparse: SparseHistogram) {
        self.init()
        for pair in sparse.buckets where pair.count == 2 && pair[0] >= 0 && pair[0] < Self.bucketCount && pair[1] > 0 {
            buckets[pair[0]] &+= UInt32(truncatingIfNeeded: pair[1])
            count += pair[1]
        }
        overflow = max(0, sparse.overflow)
        count += overflow
        maxNanos = sparse.maxNanos
        sumNanos = sparse.sumNanos
    }

    public var meanMicros: Double? { count > 0 ? sumNanos / Double(count) / 1_000 : nil }
    public var maxMicros: Double { Double(maxNanos) / 1_000 }
}

/// Nearest-rank percentile of already sorted values; nil when empty.
public func percentile(sorted values: [Double], _ fraction: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let rank = max(1, Int((fraction * Double(values.count)).rounded(.up)))
    return values[min(values.count, rank) - 1]
}

/// Events per second; 0 for an empty interval.
public func rate(_ count: Double, seconds: Double) -> Double {
    seconds > 0 ? count / seconds : 0
}

/// A `LatencyHistogram` in transit (JSON between benchmark processes).
public struct SparseHistogram: Codable, Sendable, Equatable {
    public var buckets: [[Int]]
    public var overflow: Int
    public var maxNanos: UInt64
    public var sumNanos: Double

    public init(buckets: [[Int]], overflow: Int, maxNanos: UInt64, sumNanos: Double) {
        self.buckets = buckets
        self.overflow = overflow
        self.maxNanos = maxNanos
        self.sumNanos = sumNanos
    }
}
