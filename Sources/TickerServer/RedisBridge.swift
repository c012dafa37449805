import FanoutHub
import Foundation
import MarketData
import PosixIO
import RESP
import RedisClient
import Synchronization

/// What `/healthz` and `/metrics` learn from a node's Redis link.
protocol RedisLinkStatus: Sendable {
    func degradedReason() -> String?
    func metricsText() -> String
}

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

    func reason(_ url: RedisURL) -> String? {
        guard !up.load(ordering: .acquiring) else { return nil }
        let ms = (Clock.monotonicNanos() &- downSince.load(ordering: .relaxed)) / 1_000_000
        return "redis link to \(url.host):\(url.port) down for \(ms) ms (\(lastError.withLock { $0 }))"
    }
}

/// Runs `body` on a new thread that owns a fresh event loop with one Redis
/// connection, so no Redis call ever runs on a client loop thread.
private func startRedisThread(name: String, url: RedisURL, clientName: String,
                              _ body: @escaping @Sendable (EventLoop, RedisConnection) -> Void) throws -> EventLoopWaker {
    let loop: EventLoop
    do { loop = try EventLoop() } catch { throw TickerServerError.loop("redis loop: \(error.reason)") }
    let waker = loop.waker
    let box = UncheckedBox(loop)
    let thread = Thread {
        let loop = box.value
        let connection = RedisConnection(options: .init(url: url, clientName: clientName), loop: loop)
        do throws(SystemError) { try connection.startTimer() } catch { Log.error("redis timer: \(error.reason)"); return }
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
private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

// MARK: - Feed node

/// `ticker feed --redis`: every batch the node publishes (simulated feed and
/// `/v1/publish`) is appended to its shard streams, one `MULTI`/`EXEC` per
/// shard (stream entry + latest-record hash), on a thread of its own. While
/// the link is down batches wait, up to `maxPending`; past it the oldest are
/// dropped and counted (as are writes lost with the link): gateways see the
/// per-symbol sequence jump and declare it (RedisGatewaySource).
final class RedisFeedSink: RedisLinkStatus {
    let url: RedisURL
    let layout: TickStreamLayout
    let epoch: UInt64
    let link = RedisLinkState()
    let written = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let failed = Atomic<UInt64>(0)
    /// Batches waiting for the writer thread; bounded (oldest dropped).
    private let pending = Mutex<[TickBatch]>([])
    private let waker = Mutex<EventLoopWaker?>(nil)
    static let maxPending = 4_096

    init(url: RedisURL, layout: TickStreamLayout, epoch: UInt64) {
        self.url = url
        self.layout = layout
        self.epoch = epoch
    }

    func start() throws {
        let w = try startRedisThread(name: "ticker-redis-feed", url: url, clientName: "ticker-feed") { [self] loop, connection in
            var firstWrite = true
            connection.onReady = { [self, unowned connection] in
                link.markUp()
                // The epoch key names the run; every entry carries it too. The
                // first time, the previous run's latest-record hashes go in the
                // same transaction: a gateway starting later must not seed its
                // snapshots with another epoch's sequences.
                if firstWrite {
                    firstWrite = false
                    connection.send("MULTI") { _ in }
                    connection.send([Array("DEL".utf8)] + (0..<layout.shardCount).map { Array(layout.latestKey(shard: $0).utf8) }) { _ in }
                    connection.send("SET", layout.epochKey, String(epoch)) { _ in }
                    connection.send("EXEC") { _ in }
                } else {
                    connection.send("SET", layout.epochKey, String(epoch)) { _ in }
                }
                drain(connection)
            }
            connection.onDisconnect = { [self] error in link.markDown("\(error)") }
            loop.onWake = { [self, unowned connection] in drain(connection) }
        }
        waker.withLock { $0 = w }
    }

    func post(_ batch: TickBatch) {
        let wasEmpty = pending.withLock { queue -> Bool in
            let wasEmpty = queue.isEmpty
            queue.append(batch)
            if queue.count > Self.maxPending {
                queue.removeFirst()
                dropped.wrappingAdd(1, ordering: .relaxed)
            }
            return wasEmpty
        }
        if wasEmpty { waker.withLock { $0 }?.wake() }
    }

    func stop() { waker.withLock { $0 }?.stop() }

    private func drain(_ connection: RedisConnection) {
        // While the link is down batches wait (bounded by `maxPending`, about
        // 4 s of the default feed) and are written on reconnect, in order.
        guard connection.state == .ready else { return }
        let batches = pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batches.isEmpty else { return }
        connection.pipeline {
            for batch in batches { append(batch, connection) }
        }
    }

    private func append(_ batch: TickBatch, _ connection: RedisConnection) {
        let size = TickWire.recordSize
        var records = [[UInt8]](repeating: [], count: layout.shardCount)
        var latest = [[UInt32: Int]](repeating: [:], count: layout.shardCount)
        batch.records.withUnsafeBufferPointer { all in
            for (i, tick) in batch.ticks.enumerated() {
                let shard = layout.shard(ofSymbol: tick.symbolId)
                records[shard].append(contentsOf: all[(i * size)..<((i + 1) * size)])
                latest[shard][tick.symbolId] = i
            }
        }
        for shard in 0..<layout.shardCount where !records[shard].isEmpty {
            let last = latest[shard].sorted { $0.key < $1.key }.map { entry in
                (entry.key, Array(batch.records[(entry.value * size)..<((entry.value + 1) * size)]))
            }
            let commands = layout.appendCommands(shard: shard, epoch: epoch, batch: records[shard], latest: last)
            for (n, command) in commands.enumerated() {
                let isExec = n == commands.count - 1
                connection.send(command) { [self] result in
                    guard isExec else { return }
                    switch result {
                    case .success(let value):
                        if case .error = value { failed.wrappingAdd(1, ordering: .relaxed) } else { written.wrappingAdd(1, ordering: .relaxed) }
                    case .failure: failed.wrappingAdd(1, ordering: .relaxed)
                    }
                }
            }
        }
    }

    func degradedReason() -> String? { link.reason(url) }

    func metricsText() -> String {
        """
        # HELP ticker_redis_link_up 1 while the Redis link is ready.
        # TYPE ticker_redis_link_up gauge
        ticker_redis_link_up \(link.up.load(ordering: .relaxed) ? 1 : 0)
        # HELP ticker_redis_connects_total Times the Redis link became ready.
        # TYPE ticker_redis_connects_total counter
        ticker_redis_connects_total \(link.reconnects.load(ordering: .relaxed))
        # HELP ticker_redis_entries_written_total Shard entries appended (MULTI/EXEC that succeeded).
        # TYPE ticker_redis_entries_written_total counter
        ticker_redis_entries_written_total \(written.load(ordering: .relaxed))
        # HELP ticker_redis_batches_dropped_total Batches not written because the link was down or behind.
        # TYPE ticker_redis_batches_dropped_total counter
        ticker_redis_batches_dropped_total \(dropped.load(ordering: .relaxed) + failed.load(ordering: .relaxed))

        """
    }
}

// MARK: - Gateway

/// `ticker serve --redis`: reads the shard streams with `XREAD BLOCK` from the
/// last ids it saw and posts the ticks into the loops' inboxes, as the feed
/// driver does. At start (and never again) it reads every shard's last id and
/// latest-record hash in one `MULTI`, so the snapshot it seeds matches the
/// position it reads on from. After a lost link it reads on from its last ids:
/// nothing is missed while the stream still holds them.
///
/// Sequences are the feed's and are never changed, except to declare a gap:
/// a tick whose sequence is past `last + 1 + conflatedCount` (entries trimmed
/// away, Redis restarted empty, batches the feed could not write) gets the
/// `conflated` flag and a `conflatedCount` covering the missing updates; a
/// tick at or below the last one (a replay) is dropped, so no client sees a
/// sequence go backwards. Entries of another epoch (the feed restarted) are
/// dropped and counted, and `/healthz` says so: the gateway must be restarted
/// so its clients reset (see docs/DEPLOYMENT.md).
final class RedisGatewaySource: RedisLinkStatus {
    let url: RedisURL
    let layout: TickStreamLayout
    let epoch: UInt64
    private let shared: ServerShared
    let link = RedisLinkState()
    let entries = Atomic<UInt64>(0)
    let ticks = Atomic<UInt64>(0)
    let declaredGaps = Atomic<UInt64>(0)
    let staleTicks = Atomic<UInt64>(0)
    let foreignEpochEntries = Atomic<UInt64>(0)
    /// Wall ms of the newest entry id read (0: none yet), for the lag gauge.
    let lastEntryMs = Atomic<UInt64>(0)
    private let waker = Mutex<EventLoopWaker?>(nil)
    static let blockMs = 1_000
    static let readCount = 1_024

    init(shared: ServerShared, url: RedisURL, layout: TickStreamLayout, epoch: UInt64) {
        self.shared = shared
        self.url = url
        self.layout = layout
        self.epoch = epoch
    }

    /// Loop-confined reading state.
    private final class Reader {
        var lastIDs: [StreamID]?
        var lastSequence: [UInt64]
        var reading = false
        init(symbolCount: Int) { lastSequence = Array(repeating: 0, count: symbolCount) }
    }

    func start() throws {
        let symbolCount = shared.symbols.count
        let w = try startRedisThread(name: "ticker-redis-gateway", url: url, clientName: "ticker-gateway") { [self] _, connection in
            let reader = Reader(symbolCount: symbolCount)
            connection.onReady = { [self, unowned connection] in
                link.markUp()
                reader.reading = false
                if reader.lastIDs == nil { snapshot(connection, reader) } else { read(connection, reader) }
            }
            connection.onDisconnect = { [self] error in
                reader.reading = false
                link.markDown("\(error)")
            }
        }
        waker.withLock { $0 = w }
    }

    func stop() { waker.withLock { $0 }?.stop() }

    /// Every shard's last entry id and latest-record hash, in one transaction.
    private func snapshot(_ connection: RedisConnection, _ reader: Reader) {
        let n = layout.shardCount
        connection.pipeline {
            connection.send("MULTI") { _ in }
            for shard in 0..<n {
                connection.send("XREVRANGE", layout.streamKey(shard: shard), "+", "-", "COUNT", "1") { _ in }
            }
            for shard in 0..<n { connection.send("HGETALL", layout.latestKey(shard: shard)) { _ in } }
            connection.send("EXEC") { [self, unowned connection] result in
                guard case .success(let value) = result, let replies = value.elements, replies.count == 2 * n else {
                    if case .success(let value) = result { Log.error("redis snapshot: unexpected reply \(value)") }
                    return  // a lost link retries on the next onReady
                }
                var ids: [StreamID] = []
                for shard in 0..<n {
                    let last = replies[shard].elements?.first?.elements?.first?.string.flatMap(StreamID.init)
                    ids.append(last ?? .zero)
                }
                var seed: [Tick] = []
                for shard in 0..<n {
                    let hash = replies[n + shard]
                    var values: [RESPValue] = []
                    if case .map(let pairs) = hash { values = pairs.map(\.value) } else if let flat = hash.elements {
                        values = stride(from: 1, to: flat.count, by: 2).map { flat[$0] }
                    }
                    for value in values {
                        guard let record = value.bytes, record.count == TickWire.recordSize else { continue }
                        let tick = record.withUnsafeBytes { TickWire.decodeRecord($0) }
                        guard Int(tick.symbolId) < reader.lastSequence.count else { continue }
                        seed.append(tick)
                    }
                }
                seed.sort { $0.symbolId < $1.symbolId }
                reader.lastIDs = ids
                Log.info("redis: snapshot of \(seed.count) symbol(s) at \(ids.map(\.description).joined(separator: ",")); reading on")
                deliver(seed, reader)
                read(connection, reader)
            }
        }
    }

    private func read(_ connection: RedisConnection, _ reader: Reader) {
        guard let ids = reader.lastIDs, !reader.reading else { return }
        reader.reading = true
        let command = layout.readCommand(after: ids, blockMs: Self.blockMs, count: Self.readCount)
        connection.send(command, extraTimeoutNanos: UInt64(Self.blockMs) * 1_000_000) { [self, unowned connection] result in
            reader.reading = false
            switch result {
            case .success(let value):
                do {
                    let read = try layout.decodeRead(value)
                    accept(read, reader)
                } catch {
                    Log.error("redis: cannot decode an XREAD reply: \(error)")
                }
                read(connection, reader)
            case .failure:
                break  // onReady reads on from the last ids
            }
        }
    }

    private func accept(_ read: [TickStreamLayout.Entry], _ reader: Reader) {
        guard !read.isEmpty else { return }
        var out: [Tick] = []
        for entry in read {
            reader.lastIDs?[entry.shard] = entry.id
            entries.wrappingAdd(1, ordering: .relaxed)
            lastEntryMs.store(entry.id.milliseconds, ordering: .relaxed)
            guard entry.epoch == epoch else {
                foreignEpochEntries.wrappingAdd(1, ordering: .relaxed)
                continue
            }
            let size = TickWire.recordSize
            guard entry.batch.count % size == 0 else { continue }
            entry.batch.withUnsafeBytes { raw in
                for i in 0..<(entry.batch.count / size) {
                    out.append(TickWire.decodeRecord(UnsafeRawBufferPointer(rebasing: raw[(i * size)..<((i + 1) * size)])))
                }
            }
        }
        deliver(out, reader)
    }

    /// Applies the sequence rule and posts what is left as one batch.
    private func deliver(_ incoming: [Tick], _ reader: Reader) {
        var out: [Tick] = []
        out.reserveCapacity(incoming.count)
        for var tick in incoming {
            let id = Int(tick.symbolId)
            guard id < reader.lastSequence.count else { continue }
            let last = reader.lastSequence[id]
            if last != 0 {
                if tick.sequence <= last {
                    staleTicks.wrappingAdd(1, ordering: .relaxed)
                    continue
                }
                let expected = last &+ 1 &+ UInt64(tick.conflatedCount)
                if tick.sequence > expected {
                    let missing = tick.sequence - expected
                    tick.conflatedCount = UInt32(min(UInt64(UInt32.max), UInt64(tick.conflatedCount) + missing))
                    tick.flags.insert(.conflated)
                    declaredGaps.wrappingAdd(1, ordering: .relaxed)
                }
            }
            reader.lastSequence[id] = tick.sequence
            out.append(tick)
        }
        guard !out.isEmpty else { return }
        ticks.wrappingAdd(UInt64(out.count), ordering: .relaxed)
        shared.publish(shared.makeBatch(out))
    }

    func degradedReason() -> String? {
        if let why = link.reason(url) { return why }
        let foreign = foreignEpochEntries.load(ordering: .relaxed)
        if foreign > 0 {
            return "the feed's epoch changed (\(foreign) entries of another epoch dropped): restart this gateway"
        }
        return nil
    }

    func metricsText() -> String {
        let newest = lastEntryMs.load(ordering: .relaxed)
        let nowMs = Clock.wallNanos() / 1_000_000
        let lag = newest == 0 || nowMs < newest ? 0 : Double(nowMs - newest) / 1000
        return """
        # HELP ticker_redis_link_up 1 while the Redis link is ready.
        # TYPE ticker_redis_link_up gauge
        ticker_redis_link_up \(link.up.load(ordering: .relaxed) ? 1 : 0)
        # HELP ticker_redis_connects_total Times the Redis link became ready.
        # TYPE ticker_redis_connects_total counter
        ticker_redis_connects_total \(link.reconnects.load(ordering: .relaxed))
        # HELP ticker_redis_entries_read_total Stream entries read.
        # TYPE ticker_redis_entries_read_total counter
        ticker_redis_entries_read_total \(entries.load(ordering: .relaxed))
        # HELP ticker_redis_ticks_total Ticks posted to the loops from Redis.
        # TYPE ticker_redis_ticks_total counter
        ticker_redis_ticks_total \(ticks.load(ordering: .relaxed))
        # HELP ticker_redis_declared_gaps_total Ticks flagged conflated because updates before them never arrived.
        # TYPE ticker_redis_declared_gaps_total counter
        ticker_redis_declared_gaps_total \(declaredGaps.load(ordering: .relaxed))
        # HELP ticker_redis_stale_ticks_total Ticks dropped because their sequence was not past the last one.
        # TYPE ticker_redis_stale_ticks_total counter
        ticker_redis_stale_ticks_total \(staleTicks.load(ordering: .relaxed))
        # HELP ticker_redis_foreign_epoch_entries_total Entries of another feed epoch, dropped.
        # TYPE ticker_redis_foreign_epoch_entries_total counter
        ticker_redis_foreign_epoch_entries_total \(foreignEpochEntries.load(ordering: .relaxed))
        # HELP ticker_redis_lag_seconds Wall time since the newest entry read was written.
        # TYPE ticker_redis_lag_seconds gauge
        ticker_redis_lag_seconds \(lag)

        """
    }

    /// The feed's epoch, read from a short-lived connection on the calling
    /// thread's own loop (not a client loop; called before the server starts).
    /// Waits up to `timeoutMs` for a feed to have written it.
    static func fetchEpoch(url: RedisURL, layout: TickStreamLayout, timeoutMs: Int) throws -> UInt64 {
        let loop: EventLoop
        do { loop = try EventLoop() } catch { throw TickerServerError.loop("redis loop: \(error.reason)") }
        let connection = RedisConnection(options: .init(url: url, clientName: "ticker-gateway-start"), loop: loop)
        var epoch: UInt64?
        var lastProblem = "no answer"
        var asking = false
        let deadline = Clock.monotonicNanos() + UInt64(timeoutMs) * 1_000_000
        func ask() {
            guard !asking, connection.state == .ready else { return }
            asking = true
            connection.send("GET", layout.epochKey) { result in
                asking = false
                switch result {
                case .success(let value):
                    if let text = value.string, let e = UInt64(text) { epoch = e; loop.stop() } else { lastProblem = "no feed has written \(layout.epochKey) yet" }
                case .failure(let error): lastProblem = "\(error)"
                }
            }
        }
        connection.onReady = { ask() }
        connection.onDisconnect = { lastProblem = "\($0)" }
        do {
            try loop.addRepeatingTimer(intervalNanos: 100_000_000) {
                connection.tick()
                ask()
                if Clock.monotonicNanos() > deadline { loop.stop() }
            }
        } catch {
            throw TickerServerError.loop("redis timer: \(error.reason)")
        }
        connection.start()
        loop.run()
        connection.close()
        guard let epoch else {
            throw TickerServerError.redis("cannot read the feed's epoch from \(url.host):\(url.port) within \(timeoutMs) ms: \(lastProblem)")
        }
        return epoch
    }
}
