/// One process-wide gate for every test that runs a server (or redis-server),
/// whichever test target it is in: they all run in one test process.
///
/// Swift Testing runs suites in parallel and `.serialized` only orders the
/// tests *inside* one suite, so on a 2-core machine a SIGTERM test with 2,000
/// clients used to share the CPU with another suite's server process and miss
/// its 1 s budget because of the other test, not the server. Here:
///
/// - `exclusive`: tests that spawn the real `ticker` binary (`ServerProcess`)
///   or open hundreds or thousands of sockets. They never overlap any other
///   server test.
/// - `shared`: light in-process server tests (a handful of sockets); they
///   may overlap each other, never an exclusive one.
///
/// Waiters suspend (no thread is blocked) and are served first come, first
/// served, so a stream of shared tests cannot starve an exclusive one.
public actor ServerGate {
    public enum Mode: Sendable, Equatable { case shared, exclusive }

    public static let shared = ServerGate()

    public init() {}

    /// The mode the current task holds; `ServerProcess` refuses to start without `.exclusive`.
    @TaskLocal public static var held: Mode?

    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var waiters: [(mode: Mode, resume: CheckedContinuation<Void, Never>)] = []

    private func canGrant(_ mode: Mode) -> Bool {
        switch mode {
        case .shared: !exclusiveHeld
        case .exclusive: !exclusiveHeld && sharedHolders == 0
        }
    }

    private func grant(_ mode: Mode) {
        switch mode {
        case .shared: sharedHolders += 1
        case .exclusive: exclusiveHeld = true
        }
    }

    /// Requests queued behind the holders (for tests of the gate itself).
    public var waiting: Int { waiters.count }

    public func acquire(_ mode: Mode) async {
        if waiters.isEmpty && canGrant(mode) {
            grant(mode)
            return
        }
        await withCheckedContinuation { waiters.append((mode, $0)) }
    }

    public func release(_ mode: Mode) {
        switch mode {
        case .shared: sharedHolders -= 1
        case .exclusive: exclusiveHeld = false
        }
        while let first = waiters.first, canGrant(first.mode) {
            waiters.removeFirst()
            grant(first.mode)
            first.resume.resume()
        }
    }
}

/// Runs `body` holding the gate in `mode`. A body already inside the gate
/// (nested helpers) runs directly: re-acquiring would deadlock.
public func gated<T>(_ mode: ServerGate.Mode, _ body: () throws -> T) async throws -> T {
    if let held = ServerGate.held {
        precondition(held == .exclusive || mode == .shared, "cannot upgrade a shared server gate to exclusive")
        return try body()
    }
    await ServerGate.shared.acquire(mode)
    let result = Result { try ServerGate.$held.withValue(mode) { try body() } }
    await ServerGate.shared.release(mode)
    return try result.get()
}
