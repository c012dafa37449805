import Dispatch
import Foundation
import MarketData
import PosixIO
import Synchronization

public enum TickerServerError: Error, CustomStringConvertible {
    case symbols(String)
    case listen(SystemError)
    case loop(String)

    public var description: String {
        switch self {
        case .symbols(let why): "cannot load the symbol universe: \(why)"
        case .listen(let error): "cannot listen: \(error)"
        case .loop(let why): "cannot start an event loop: \(why)"
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
        var fds: [Int32] = []
        do {
            let first = try Syscall.listen(host: config.host, port: config.port, reusePort: true)
            fds.append(first)
            let bound = Syscall.localPort(first)
            for _ in 1..<max(1, config.loops) {
                fds.append(try Syscall.listen(host: config.host, port: bound, reusePort: true))
            }
            port = bound
        } catch {
            for fd in fds { Syscall.close(fd) }
            throw TickerServerError.listen(error)
        }
        listenFDs = fds
        var resolved = config
        resolved.loops = fds.count
        shared = ServerShared(config: resolved, symbols: symbols)
        feed = FeedDriver(shared: shared)
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
                    let worker = try LoopWorker(shared: shared, metrics: shared.loopMetrics[i], listenFD: fd)
                    shared.addInbox(worker.inbox)
                    wakers.withLock { $0.append(worker.loop.waker) }
                    ready.leave()
                    worker.loop.run()
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
        if config.simulatedFeed { try feed.start() }
    }

    /// Graceful shutdown: the feed stops, listeners close, every WebSocket
    /// gets close 1001, and loops exit when drained or at the drain deadline.
    public func shutdown() {
        guard !shared.shuttingDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        feed.stop()
        for waker in wakers.withLock({ $0 }) { waker.wake() }
    }

    /// Blocks until every loop thread has exited (after `shutdown()`).
    public func waitUntilStopped() {
        loopsDone.wait()
    }

    /// Prometheus text, as served on `/metrics`.
    public func metricsText() -> String { shared.renderMetrics() }

    public var openConnections: Int { shared.openConnections.load(ordering: .relaxed) }
}

/// Where the symbol universe comes from: a CSV path, or the default
/// universe compiled into the binary (so `ticker serve` runs from anywhere).
public enum SymbolUniverse {
    public static func load(path: String?) throws -> SymbolTable {
        if let path { return try SymbolTable.load(path: path) }
        return try SymbolTable(csv: EmbeddedAssets.symbolsCSV)
    }
}
