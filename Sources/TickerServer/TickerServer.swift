import Dispatch
import Foundation
import MarketData
import PosixIO
import RedisClient
import ScaleOut
import Synchronization

public enum TickerServerError: Error, CustomStringConvertible {
    case symbols(String)
    /// Another process (often another `ticker serve`) already listens on the port.
    case portInUse(host: String, port: UInt16)
    case adminPortInUse(host: String, port: UInt16)
    case listen(host: String, port: UInt16, SystemError)
    case loop(String)
    case redis(String)
    case auth(String)

    public var description: String {
        switch self {
        case .auth(let why): "cannot start with --auth-keys: \(why)"
        case .symbols(let why): "cannot load the symbol universe: \(why)"
        case .portInUse(let host, let port):
            "port \(port) on \(host) is already in use (is another ticker serve running?); pick another with --port"
        case .adminPortInUse(let host, let port):
            "admin port \(port) on \(host) is already in use; pick another with --admin-port (0 picks a free one)"
        case .listen(let host, let port, let error): "cannot listen on \(host) port \(port): \(error.reason)"
        case .loop(let why): "cannot start an event loop: \(why)"
        case .redis(let why): why
        }
    }

    init(_ error: ScaleOutError) {
        switch error {
        case .loop(let why): self = .loop(why)
        case .redis(let why): self = .redis(why)
        }
    }
}

/// The ticker server: N event-loop threads, each with its own listener
/// (SO_REUSEPORT) and hub, fed by one feed thread.
///
///     let server = try TickerServer(config: config)
///     try server.start()
///     server.waitUntilStopped()   // returns after shutdown()
public final class TickerServer: Sendable {
    public let config: ServerConfig
    public let symbols: SymbolTable
    /// The bound port (useful with `port: 0`).
    public let port: UInt16
    private let listenFDs: [Int32]
    private let shared: ServerShared
    private let feed: FeedDriver
    private let redisSink: RedisFeedSink?
    private let redisSource: RedisGatewaySource?
    private let admin: AdminServer?
    /// The admin listener's bound port (`ServerConfig.adminPort`), nil when off.
    public var adminPort: UInt16? { admin?.port }
    private let loopsDone = DispatchGroup()
    private let wakers = Mutex<[EventLoopWaker]>([])
    private let started = Atomic<Bool>(false)

    public init(config: ServerConfig) throws {
        self.config = config
        do {
            symbols = try SymbolUniverse.load(path: config.symbolsPath)
        } catch {
            throw TickerServerError.symbols("\(error)")
        }
        var access: AccessControl?
        if let keys = config.authKeysPath {
            do {
                access = try AccessControl(keysPath: keys, revokedPath: config.revokedPath)
            } catch {
                throw TickerServerError.auth(error.message)
            }
        }
        (listenFDs, port) = try Self.openListeners(config)
        var resolved = config
        resolved.loops = listenFDs.count
        shared = ServerShared(config: resolved, symbols: symbols, access: access)
        feed = FeedDriver(shared: shared)
        let shared = self.shared, fds = listenFDs
        do {
            admin = try config.adminPort.map { try AdminServer(host: config.host, port: $0, shared: shared) }
        } catch {
            for fd in fds { Syscall.close(fd) }
            throw error
        }
        switch config.redis {
        case .feed(let url):
            redisSink = RedisFeedSink(node: shared.broadcast, url: url, layout: config.redisLayout,
                                      maxPending: config.overload.redisMaxPendingBatches)
            redisSource = nil
        case .gateway(let url):
            redisSink = nil
            redisSource = RedisGatewaySource(node: shared.broadcast, url: url, layout: config.redisLayout)
        case nil:
            redisSink = nil
            redisSource = nil
        }
    }

    /// One listening socket per loop, all on one port in one SO_REUSEPORT group, so
    /// the kernel spreads connections over the loops by hash, and owned by this
    /// process alone: a second server on the port must fail at start, not share it.
    ///
    /// SO_REUSEPORT alone does not give that: any later socket of the same user that
    /// sets it joins the group and takes its share of the connections. So the first
    /// socket is bound and put in LISTEN *without* SO_REUSEPORT. That is the port
    /// claim, and the kernel makes it atomic: it fails with EADDRINUSE if anything
    /// listens there (reuseport or not), and once it listens no socket without
    /// SO_REUSEPORT can bind or listen on the port. Two servers starting at the same
    /// instant both may bind (SO_REUSEADDR, for restarts over TIME_WAIT), but the
    /// listen re-checks under the port's lock and only the first succeeds. Then the
    /// claim gets SO_REUSEPORT and the other loops' listeners join its group (Linux
    /// builds the group around a listener that gained the option late; checked by
    /// `ListenerClaimTests`). A program that sets SO_REUSEPORT before binding could
    /// still join afterwards; every `ticker serve` makes the claim first, so two
    /// tickers never share a port.
    /// A single shared listener registered by every loop with EPOLLEXCLUSIVE would be
    /// exclusive too, but the kernel wakes the first idle loop in registration order,
    /// and connections stay on their loop for life, so the first loop takes most of
    /// them. Reuseport hashing spreads them evenly however idle the loops are.
    static func openListeners(_ config: ServerConfig) throws -> ([Int32], UInt16) {
        var fds: [Int32] = []
        var port = config.port
        do throws(SystemError) {
            let claim = try Syscall.listen(host: config.host, port: config.port, reusePort: false)
            fds.append(claim)
            port = Syscall.localPort(claim)
            try Syscall.setReusePort(claim)
            for _ in 1..<max(1, config.loops) {
                fds.append(try Syscall.listen(host: config.host, port: port, reusePort: true))
            }
            return (fds, port)
        } catch {
            for fd in fds { Syscall.close(fd) }
            if error.isAddressInUse { throw TickerServerError.portInUse(host: config.host, port: port) }
            throw TickerServerError.listen(host: config.host, port: port, error)
        }
    }

    /// Starts the loop threads (returns once all accept) and the feed.
    public func start() throws {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Syscall.ignoreSIGPIPE()
        let ready = DispatchGroup()
        let failure = Mutex<String?>(nil)
        for (i, fd) in listenFDs.enumerated() {
            ready.enter()
            loopsDone.enter()
            let shared = self.shared
            let thread = Thread { [self] in
                do {
                    let worker = try LoopWorker(shared: shared, metrics: shared.health.loopMetrics[i], listenFD: fd)
                    shared.broadcast.addInbox(worker.inbox)
                    wakers.withLock { $0.append(worker.loop.waker) }
                    ready.leave()
                    worker.loop.run()
                    worker.stopped()
                } catch {
                    failure.withLock { $0 = "\(error)" }
                    ready.leave()
                }
                loopsDone.leave()
            }
            thread.name = "ticker-loop-\(i)"
            thread.start()
        }
        ready.wait()
        if let why = failure.withLock({ $0 }) {
            shutdown()
            throw TickerServerError.loop(why)
        }
        do throws(ScaleOutError) {
            if let redisSink {
                shared.health.setRedisStatus(redisSink)
                try redisSink.start()
                shared.broadcast.setBatchTap { redisSink.post($0) }
            }
            if let redisSource {
                shared.health.setRedisStatus(redisSource)
                try redisSource.start()
            }
        } catch {
            throw TickerServerError(error)
        }
        if config.simulatedFeed { try feed.start() }
        admin?.start()
    }

    /// Graceful shutdown: the feed stops, every WebSocket gets close 1001,
    /// and loops exit when drained or at the drain deadline. Until a loop
    /// exits its listener stays open: probes are answered (`/readyz` 503)
    /// and new upgrades get 503 with `Retry-After`.
    public func shutdown() {
        guard !shared.shuttingDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        feed.stop()
        redisSource?.stop()
        redisSink?.stop()
        for waker in wakers.withLock({ $0 }) { waker.wake() }
    }

    /// Blocks until every loop thread has exited (after `shutdown()`).
    public func waitUntilStopped() {
        loopsDone.wait()
        admin?.stop()
    }

    /// Prometheus text, as served on `/metrics`.
    public func metricsText() -> String { shared.health.renderMetrics() }

    /// SIGHUP: the auth keys and revoked subjects again (nothing with auth
    /// off). A file that does not parse keeps what was loaded, and says why.
    public func reloadAuth() {
        for (ok, line) in shared.access?.reload() ?? [] {
            if ok { Log.info(line) } else { Log.warning(line) }
        }
    }

    public var openConnections: Int { shared.admission.openConnections.load(ordering: .relaxed) }

    /// Loops whose flushes go through io_uring (`ServerConfig.ioUring`, where the kernel allows it).
    public var ioUringLoops: Int { shared.health.loopMetrics.reduce(0) { $0 + $1.ioUringLoops.load(ordering: .relaxed) } }

    /// The epoch a feed node has written to Redis, for a gateway's `ServerConfig.epoch`
    /// (so clients resume across gateways). Blocks the calling thread up to `timeoutMs`.
    public static func feedEpoch(url: RedisURL, layout: TickStreamLayout, timeoutMs: Int) throws -> UInt64 {
        do throws(ScaleOutError) {
            return try RedisGatewaySource.fetchEpoch(url: url, layout: layout, timeoutMs: timeoutMs)
        } catch {
            throw TickerServerError(error)
        }
    }
}

/// Where the symbol universe comes from: a CSV path, or the default
/// universe compiled into the binary (so `ticker serve` runs from anywhere).
public enum SymbolUniverse {
    /// Sources/TickerServer/Universe/symbols.csv, embedded by SwiftPM (see Package.swift).
    public static var defaultCSV: String { String(decoding: PackageResources.symbols_csv, as: UTF8.self) }

    public static func load(path: String?) throws(SymbolTableError) -> SymbolTable {
        guard let path else { return try SymbolTable(csv: defaultCSV) }
        return try SymbolTable(csv: readCSV(path: path))
    }

    /// A CSV file's text. Every failure is `SymbolTableError.unreadable` with
    /// the system's reason in words ("no such file or directory", "is a
    /// directory", "not UTF-8 text"), one sentence an operator can act on.
    public static func readCSV(path: String) throws(SymbolTableError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(path: path)
        } catch {
            throw .unreadable(path: path, reason: error.reason.prefix(1).lowercased() + error.reason.dropFirst())
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .unreadable(path: path, reason: "not UTF-8 text")
        }
        return text
    }
}
