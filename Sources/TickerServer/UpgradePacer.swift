import PosixIO

/// How many WebSocket upgrades one loop performs per window, and the ones
/// waiting their turn. An upgrade costs a SHA-1, a 101, a subscription and
/// its snapshots; a connect burst of thousands done in one go keeps
/// `/healthz` waiting behind it. Past the pace
/// (`OverloadPolicy.upgradesPerWindow` per `upgradeWindow`) an upgrade is
/// parked — its socket quiet, frames sent behind it kept — and done in
/// arrival order as the pace allows, while requests that are not upgrades
/// are answered at once.
struct UpgradePacer {
    let window: Nanoseconds
    let perWindow: Int
    private var parked: [Connection] = []
    private var next = 0
    private var windowStart = Instant(nanoseconds: 0)
    private var inWindow = 0

    init(_ policy: OverloadPolicy) {
        window = policy.upgradeWindow
        perWindow = max(1, policy.upgradesPerWindow)
    }

    var hasParked: Bool { next < parked.count }

    /// True when an upgrade arriving now must wait (others wait already, or
    /// the window's pace is spent); false takes one from the pace.
    mutating func shouldPark(now: Instant) -> Bool {
        hasParked || !take(now: now)
    }

    mutating func park(_ connection: Connection) {
        parked.append(connection)
    }

    /// The oldest parked connection if the pace allows one more now.
    mutating func nextDue(now: Instant) -> Connection? {
        guard hasParked, take(now: now) else { return nil }
        let connection = parked[next]
        next += 1
        if next == parked.count {
            parked.removeAll(keepingCapacity: parked.count <= 1_024)
            next = 0
        }
        return connection
    }

    private mutating func take(now: Instant) -> Bool {
        if now - windowStart >= window {
            windowStart = now
            inWindow = 0
        }
        guard inWindow < perWindow else { return false }
        inWindow += 1
        return true
    }
}
