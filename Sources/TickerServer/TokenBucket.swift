import PosixIO

/// Inbound message budget: `perSecond` tokens, refilled continuously, with a
/// burst of the same size. Counts control requests. 24 bytes: it lives in
/// every connection, so idle memory counts its fields.
struct TokenBucket {
    let capacity: Float
    var tokens: Float
    var last: Instant
    /// Requests refused since the bucket was last full (`isAbusive`).
    var refusals: Int32 = 0

    init(perSecond: Int) {
        capacity = Float(max(1, perSecond))
        tokens = capacity
        last = Clock.now()
    }

    mutating func take(now: Instant) -> Bool {
        tokens = min(capacity, tokens + Float((now - last).seconds) * capacity)
        last = now
        if tokens >= 1 {
            tokens -= 1
            if tokens >= capacity - 1 { refusals = 0 }
            return true
        }
        refusals += 1
        return false
    }

    /// Refused `factor` times the rate since the bucket was last full
    /// (`OverloadPolicy.abusiveRefusalFactor`).
    func isAbusive(factor: Int) -> Bool { Float(refusals) >= capacity * Float(factor) }
}
