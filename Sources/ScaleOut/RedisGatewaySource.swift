import MarketData
import PosixIO
import RESP
import RedisClient
import Synchronization

/// `ticker serve --redis`: reads the shard streams with `XREAD BLOCK` from the
/// last ids it saw and posts the ticks into the loops' inboxes, as the feed
/// driver does. At start it reads the feed's epoch, every shard's last id and
/// latest-record hash in one `MULTI`, so the snapshot it seeds matches the
/// position it reads on from. After a lost link it reads on from its last ids:
/// nothing is missed while the stream still holds them.
///
/// Sequences are the feed's and are never changed, except to declare a gap:
/// a tick whose sequence is past `last + 1 + conflatedCount` (entries trimmed
/// away, Redis restarted empty, batches the feed could not write) gets the
/// `conflated` flag and a `conflatedCount` covering the missing updates; a
/// tick at or below the last one (a replay) is dropped, so no client sees a
/// sequence go backwards.
///
/// A feed restart is handled in place. Entries of another epoch make the
/// gateway re-read the epoch key with the snapshot (one `MULTI` again). If the
/// key names a new run, the gateway adopts it: `welcome` and resume use the
/// new epoch from then on, every symbol of the snapshot goes out flagged
/// `snapshot` (the protocol's baseline reset, so a lower sequence is declared,
/// never silent), and a symbol the new run had not ticked yet gets the flag on
/// its first tick. If the key still names our run, the entries were an old
/// writer's and are dropped and counted.
public final class RedisGatewaySource: RedisLinkStatus {
    let url: RedisURL
    let layout: TickStreamLayout
    private let startEpoch: UInt64
    let node: any ScaleOutNode
    let link = RedisLinkState()
    let entries = Atomic<UInt64>(0)
    let ticks = Atomic<UInt64>(0)
    let declaredGaps = Atomic<UInt64>(0)
    let staleTicks = Atomic<UInt64>(0)
    let foreignEpochEntries = Atomic<UInt64>(0)
    /// In-place resets after the feed restarted (a new epoch adopted).
    let feedRestarts = Atomic<UInt64>(0)
    /// Ticks delivered flagged `snapshot` because their symbol's baseline was reset.
    let baselineResets = Atomic<UInt64>(0)
    /// Wall ms of the newest entry id read (0: none yet), for the lag gauge.
    let lastEntryMs = Atomic<UInt64>(0)
    private let waker = Mutex<EventLoopWaker?>(nil)
    static let blockMs = 1_000
    static let readCount = 1_024

    public init(node: any ScaleOutNode, url: RedisURL, layout: TickStreamLayout) {
        self.node = node
        self.url = url
        self.layout = layout
        self.startEpoch = node.epoch
    }

    /// Loop-confined reading state.
    final class Reader {
        /// The feed run being followed.
        var epoch: UInt64
        var lastIDs: [StreamID]?
        var lastSequence: [UInt64]
        /// The symbol's next tick resets the client's baseline (after a feed restart).
        var needsBaseline: [Bool]
        var reading = false
        /// A snapshot transaction is wanted (at start, or entries of another epoch seen).
        var wantSnapshot = true
        var snapshotInFlight = false
        init(symbolCount: Int, epoch: UInt64) {
            self.epoch = epoch
            lastSequence = Array(repeating: 0, count: symbolCount)
            needsBaseline = Array(repeating: false, count: symbolCount)
        }
    }

    public func start() throws(ScaleOutError) {
        let symbolCount = node.symbolCount
        let epoch = startEpoch
        let w = try startRedisThread(name: "ticker-redis-gateway", url: url, clientName: "ticker-gateway", node: node) { [self] _, connection in
            let reader = Reader(symbolCount: symbolCount, epoch: epoch)
            connection.onReady = { [self, unowned connection] in
                link.markUp()
                reader.reading = false
                reader.snapshotInFlight = false
                if reader.wantSnapshot { snapshot(connection, reader) } else { read(connection, reader) }
            }
            connection.onDisconnect = { [self] error in
                reader.reading = false
                reader.snapshotInFlight = false
                link.markDown("\(error)")
            }
        }
        waker.withLock { $0 = w }
    }

    public func stop() { waker.withLock { $0 }?.stop() }

    /// The epoch key, every shard's last entry id and latest-record hash, in one
    /// transaction: at start, and again when entries of another epoch appear.
    private func snapshot(_ connection: RedisConnection, _ reader: Reader) {
        let n = layout.shardCount
        reader.wantSnapshot = true
        guard !reader.snapshotInFlight else { return }
        reader.snapshotInFlight = true
        connection.pipeline {
            connection.send("MULTI") { _ in }
            connection.send("GET", layout.epochKey) { _ in }
            for shard in 0..<n {
                connection.send("XREVRANGE", layout.streamKey(shard: shard), "+", "-", "COUNT", "1") { _ in }
            }
            for shard in 0..<n { connection.send("HGETALL", layout.latestKey(shard: shard)) { _ in } }
            connection.send("EXEC") { [self, unowned connection] result in
                reader.snapshotInFlight = false
                guard case .success(let value) = result, let replies = value.elements, replies.count == 1 + 2 * n else {
                    switch result {
                    case .failure(.reply(let text)): node.log(.error, "redis snapshot refused: \(text)")
                    case .success(let value): node.log(.error, "redis snapshot: unexpected reply \(value)")
                    case .failure: return  // the link dropped: onReady asks again
                    }
                    // Refused outright: read on from where we were (nothing to
                    // read from before the first snapshot; the next onReady retries).
                    if reader.lastIDs != nil { reader.wantSnapshot = false; read(connection, reader) }
                    return
                }
                reader.wantSnapshot = false
                let keyEpoch = replies[0].string.flatMap { UInt64($0) }
                let ids = (0..<n).map { shard in
                    replies[1 + shard].elements?.first?.elements?.first?.string.flatMap(StreamID.init) ?? .zero
                }
                let seed = decodeLatest(Array(replies[(1 + n)...]), symbolCount: reader.lastSequence.count)
                if reader.lastIDs == nil {
                    if let keyEpoch, keyEpoch != reader.epoch { adopt(keyEpoch, reader) }
                    reader.lastIDs = ids
                    node.log(.info, "redis: snapshot of \(seed.count) symbol(s) at \(ids.map(\.description).joined(separator: ",")); reading on")
                    deliver(seed, reader)
                } else if let keyEpoch, keyEpoch != reader.epoch {
                    adopt(keyEpoch, reader)
                    feedRestarts.wrappingAdd(1, ordering: .relaxed)
                    for i in reader.needsBaseline.indices {
                        reader.needsBaseline[i] = true
                        reader.lastSequence[i] = 0
                    }
                    reader.lastIDs = ids
                    node.log(.info, "redis: the feed restarted (epoch \(keyEpoch)); \(seed.count) fresh snapshot(s) at \(ids.map(\.description).joined(separator: ","))")
                    deliver(seed, reader)
                }
                // Otherwise the key still names our run: the other epoch's entries
                // were an old writer's, already skipped; read on from where we were.
                read(connection, reader)
            }
        }
    }

    /// From here on `welcome` and resume name the new run.
    private func adopt(_ epoch: UInt64, _ reader: Reader) {
        reader.epoch = epoch
        node.adoptEpoch(epoch)
    }

    /// The latest records of `HGETALL` replies (RESP2 flat arrays or RESP3 maps), by symbol id.
    private func decodeLatest(_ hashes: [RESPValue], symbolCount: Int) -> [Tick] {
        var seed: [Tick] = []
        for hash in hashes {
            var values: [RESPValue] = []
            if case .map(let pairs) = hash { values = pairs.map(\.value) } else if let flat = hash.elements {
                values = stride(from: 1, to: flat.count, by: 2).map { flat[$0] }
            }
            for value in values {
                guard let record = value.bytes, record.count == TickWire.recordSize else { continue }
                let tick = record.withUnsafeBytes { TickWire.decodeRecord($0) }
                guard Int(tick.symbolId) < symbolCount else { continue }
                seed.append(tick)
            }
        }
        seed.sort { $0.symbolId < $1.symbolId }
        return seed
    }

    private func read(_ connection: RedisConnection, _ reader: Reader) {
        guard let ids = reader.lastIDs, !reader.reading, !reader.wantSnapshot else { return }
        reader.reading = true
        let command = layout.readCommand(after: ids, blockMs: Self.blockMs, count: Self.readCount)
        connection.send(command, extraTimeoutNanos: UInt64(Self.blockMs) * 1_000_000) { [self, unowned connection] result in
            reader.reading = false
            switch result {
            case .success(let value):
                var foreign = false
                do {
                    foreign = accept(try layout.decodeRead(value), reader)
                } catch {
                    node.log(.error, "redis: cannot decode an XREAD reply: \(error)")
                }
                if foreign { snapshot(connection, reader) } else { read(connection, reader) }
            case .failure:
                break  // onReady reads on from the last ids
            }
        }
    }

    /// Delivers the entries of our epoch; true when some were of another one.
    private func accept(_ read: [TickStreamLayout.Entry], _ reader: Reader) -> Bool {
        guard !read.isEmpty else { return false }
        var out: [Tick] = []
        var foreign = false
        for entry in read {
            reader.lastIDs?[entry.shard] = entry.id
            entries.wrappingAdd(1, ordering: .relaxed)
            lastEntryMs.store(entry.id.milliseconds, ordering: .relaxed)
            guard entry.epoch == reader.epoch else {
                foreignEpochEntries.wrappingAdd(1, ordering: .relaxed)
                foreign = true
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
        return foreign
    }

    /// Applies the sequence rule and posts what is left as one batch.
    private func deliver(_ incoming: [Tick], _ reader: Reader) {
        var out: [Tick] = []
        out.reserveCapacity(incoming.count)
        for var tick in incoming {
            let id = Int(tick.symbolId)
            guard id < reader.lastSequence.count else { continue }
            if reader.needsBaseline[id] {
                // The client's new baseline: whatever it held was another run's.
                reader.needsBaseline[id] = false
                tick.flags = [.snapshot]
                tick.conflatedCount = 0
                baselineResets.wrappingAdd(1, ordering: .relaxed)
            } else if reader.lastSequence[id] != 0 {
                let last = reader.lastSequence[id]
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
        node.publish(out)
    }
}
