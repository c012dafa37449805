import Foundation
import PosixIO
import RedisClient
import Synchronization

/// Link state shared by both ends: up/down since when, why, reconnects.
final class RedisLinkState: Sendable {
    let up = Atomic<Bool>(false)
    let reconnects = Atomic<UInt64>(0)
    /// Monotonic ns the link went down (0: never up yet, counted from start).
    let downSince = Atomic<UInt64>(Clock.monotonicNanos())
    private let lastError = Mutex<String>("not connected yet")

    func markUp() {
        up.store(true, ordering: .releasing)
        reconnects.wrappingAdd(1, ordering: .relaxed)
    }

    func markDown(_ why: String) {
        lastError.withLock { $0 = why }
        if up.exchange(false, ordering: .acquiringAndReleasing) {
            downSince.store(Clock.monotonicNanos(), ordering: .relaxed)
        }
    }

    /// The metrics both ends export about their link.
    func metrics() -> [LinkMetric] {
        [
            .gauge("ticker_redis_link_up", "1 while the Redis link is ready.", up.load(ordering: .relaxed) ? 1 : 0),
            .counter("ticker_redis_connects_total", "Times the Redis link became ready.", reconnects.load(ordering: .relaxed)),
        ]
    }

    func reason(_ url: RedisURL) -> String? {
        guard !up.load(ordering: .acquiring) else { return nil }
        let ms = (Clock.monotonicNanos() &- downSince.load(ordering: .relaxed)) / 1_000_000
        return "redis link to \(url.host):\(url.port) down for \(ms) ms (\(lastError.withLock { $0 }))"
    }
}

/// Runs `body` on a new thread that owns a fresh event loop with one Redis
/// connection, so no Redis call ever runs on a client loop thread.
func startRedisThread(name: String, url: RedisURL, clientName: String, node: any ScaleOutNode,
                      _ body: @escaping @Sendable (EventLoop, RedisConnection) -> Void) throws(ScaleOutError) -> EventLoopWaker {
    let loop: EventLoop
    do { loop = try EventLoop() } catch { throw .loop("redis loop: \(error.reason)") }
    let waker = loop.waker
    let box = UncheckedBox(loop)
    let thread = Thread {
        let loop = box.value
        let connection = RedisConnection(options: .init(url: url, clientName: clientName), loop: loop)
        do throws(SystemError) { try connection.startTimer() } catch { node.log(.error, "redis timer: \(error.reason)"); return }
        body(loop, connection)
        connection.start()
        loop.run()
        connection.close()
    }
    thread.name = name
    thread.start()
    return waker
}

/// Moves a value built on one thread to the thread that will own it for life.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
