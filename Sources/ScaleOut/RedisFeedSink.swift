import FanoutHub
import MarketData
import PosixIO
import RedisClient
import Synchronization

/// `ticker feed --redis`: every batch the node publishes (simulated feed and
/// `/v1/publish`) is appended to its shard streams, one `MULTI`/`EXEC` per
/// shard (stream entry + latest-record hash), on a thread of its own. While
/// the link is down batches wait, up to `maxPending`; past it the oldest are
/// dropped and counted: gateways see the per-symbol sequence jump and declare
/// it (RedisGatewaySource). A batch is kept until Redis has answered every
/// `EXEC` of it; when the link drops first, it is written again after the
/// reconnect (a transaction that had in fact been applied becomes a repeat,
/// which gateways drop by its sequence), so killing the feed's link loses
/// nothing.
public final class RedisFeedSink: RedisLinkStatus {
    let url: RedisURL
    let layout: TickStreamLayout
    let epoch: UInt64
    let link = RedisLinkState()
    let written = Atomic<UInt64>(0)
    let dropped = Atomic<UInt64>(0)
    let failed = Atomic<UInt64>(0)
    /// Batches written again after the link dropped before Redis acknowledged them.
    let rewritten = Atomic<UInt64>(0)
    /// Batches waiting for the writer thread; bounded (oldest dropped).
    private let pending = Mutex<[TickBatch]>([])
    private let waker = Mutex<EventLoopWaker?>(nil)
    /// Batches kept while the link is down (`OverloadPolicy.redisMaxPendingBatches`).
    let maxPending: Int
    /// Unowned: the node holds the sink (its batch tap), and outlives it.
    private unowned let node: any ScaleOutNode

    public init(node: any ScaleOutNode, url: RedisURL, layout: TickStreamLayout, maxPending: Int) {
        self.node = node
        self.maxPending = max(1, maxPending)
        self.url = url
        self.layout = layout
        self.epoch = node.epoch
    }

    /// Loop-confined: batches written and not yet acknowledged by every `EXEC`.
    private final class Unacknowledged {
        var batches: [TickBatch] = []
        var remaining: [Int] = []
        var head = 0
        var firstSerial = 0

        func add(_ batch: TickBatch, transactions: Int) -> Int {
            batches.append(batch)
            remaining.append(transactions)
            return firstSerial + batches.count - head - 1
        }

        func acknowledge(_ serial: Int) {
            let k = head + serial - firstSerial
            guard k >= head, k < remaining.count else { return }
            remaining[k] -= 1
            while head < remaining.count && remaining[head] <= 0 {
                head += 1
                firstSerial += 1
            }
            if head == remaining.count || head >= 1_024 {
                batches.removeFirst(head)
                remaining.removeFirst(head)
                head = 0
            }
        }

        /// Everything not acknowledged, in order; forgets it.
        func takeAll() -> [TickBatch] {
            let rest = Array(batches[head...])
            firstSerial += batches.count - head
            batches.removeAll()
            remaining.removeAll()
            head = 0
            return rest
        }
    }

    public func start() throws(ScaleOutError) {
        let w = try startRedisThread(name: "ticker-redis-feed", url: url, clientName: "ticker-feed", node: node) { [self] loop, connection in
            var firstWrite = true
            let unacknowledged = Unacknowledged()
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
                drain(connection, unacknowledged)
            }
            connection.onDisconnect = { [self] error in
                link.markDown("\(error)")
                // Written but not acknowledged: back to the front of the queue.
                let again = unacknowledged.takeAll()
                guard !again.isEmpty else { return }
                rewritten.wrappingAdd(UInt64(again.count), ordering: .relaxed)
                pending.withLock { queue in
                    queue.insert(contentsOf: again, at: 0)
                    if queue.count > self.maxPending {
                        let excess = queue.count - self.maxPending
                        queue.removeFirst(excess)
                        dropped.wrappingAdd(UInt64(excess), ordering: .relaxed)
                    }
                }
            }
            loop.onWake = { [self, unowned connection] in drain(connection, unacknowledged) }
        }
        waker.withLock { $0 = w }
    }

    /// Queues a batch the node published (its batch tap); never blocks on Redis.
    public func post(_ batch: TickBatch) {
        let wasEmpty = pending.withLock { queue -> Bool in
            let wasEmpty = queue.isEmpty
            queue.append(batch)
            if queue.count > self.maxPending {
                queue.removeFirst()
                dropped.wrappingAdd(1, ordering: .relaxed)
            }
            return wasEmpty
        }
        if wasEmpty { waker.withLock { $0 }?.wake() }
    }

    public func stop() { waker.withLock { $0 }?.stop() }

    private func drain(_ connection: RedisConnection, _ unacknowledged: Unacknowledged) {
        // While the link is down batches wait (bounded by `maxPending`, about
        // 4 s of the default feed) and are written on reconnect, in order.
        guard connection.state == .ready else { return }
        let batches = pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batches.isEmpty else { return }
        connection.pipeline {
            for batch in batches { append(batch, connection, unacknowledged) }
        }
    }

    private func append(_ batch: TickBatch, _ connection: RedisConnection, _ unacknowledged: Unacknowledged) {
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
        let shards = (0..<layout.shardCount).filter { !records[$0].isEmpty }
        guard !shards.isEmpty else { return }
        let serial = unacknowledged.add(batch, transactions: shards.count)
        for shard in shards {
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
                        unacknowledged.acknowledge(serial)
                        if case .error = value { failed.wrappingAdd(1, ordering: .relaxed) } else { written.wrappingAdd(1, ordering: .relaxed) }
                    case .failure(.reply):
                        unacknowledged.acknowledge(serial)  // refused (EXECABORT, OOM): not retried
                        failed.wrappingAdd(1, ordering: .relaxed)
                    case .failure:
                        break  // the link dropped: written again after the reconnect
                    }
                }
            }
        }
    }

    public func degradedReason() -> String? { link.reason(url) }

    public func metrics() -> [LinkMetric] {
        link.metrics() + [
            .counter("ticker_redis_entries_written_total", "Shard entries appended (MULTI/EXEC that succeeded).",
                     written.load(ordering: .relaxed)),
            .counter("ticker_redis_batches_dropped_total", "Batches not written because the link was down or behind.",
                     dropped.load(ordering: .relaxed) + failed.load(ordering: .relaxed)),
            .counter("ticker_redis_batches_rewritten_total", "Batches written again because the link dropped before Redis acknowledged them.",
                     rewritten.load(ordering: .relaxed)),
        ]
    }
}
