import Synchronization

/// Who may hold a connection, across loops: the capacity counts and the
/// per-address limit. Loops count here as they accept and close.
final class Admission: Sendable {
    let openConnections = Atomic<Int>(0)
    /// Of those, connections accepted only to be refused (503/429), bounded
    /// by the over-capacity reserve so refusals cannot take admitted slots.
    let refusedPending = Atomic<Int>(0)
    /// Connections holding one of the `maxConnections` slots. Taken with an
    /// atomic add before the check, so two loops accepting at the same
    /// moment cannot both take the last slot.
    let admittedConnections = Atomic<Int>(0)
    /// `maxConnectionsPerAddress` (0: no limit).
    private let maxPerAddress: Int
    /// Open connections per peer address (the per-address limit).
    private let perAddress = Mutex<[UInt128: Int]>([:])

    init(maxPerAddress: Int) { self.maxPerAddress = maxPerAddress }

    /// Counts a connection from `address`; false (and nothing counted) when
    /// that address already holds `maxConnectionsPerAddress`.
    func admit(address: UInt128) -> Bool {
        let limit = maxPerAddress
        return perAddress.withLock { counts in
            let n = counts[address, default: 0]
            if limit > 0 && n >= limit { return false }
            counts[address] = n + 1
            return true
        }
    }

    func release(address: UInt128) {
        perAddress.withLock { counts in
            guard let n = counts[address] else { return }
            if n <= 1 { counts[address] = nil } else { counts[address] = n - 1 }
        }
    }
}
