import RESP
import RedisClient

/// The keys and commands of the feed → gateways layout (see docs/ARCHITECTURE.md, "The
/// Redis link"). Pure: commands are built and replies decoded here; the connection sends.
///
/// - `<prefix>:s:<shard>`: a stream per shard of symbols, one entry per feed batch, with
///   fields `epoch` (the feed's run) and `batch` (the encoded tick records);
/// - `<prefix>:last:<shard>`: a hash, symbol id → the symbol's latest encoded record,
///   updated in the same `MULTI`/`EXEC` as the `XADD`, so it is always consistent with
///   the stream's last entry;
/// - `<prefix>:epoch`: the feed's current epoch.
public struct TickStreamLayout: Sendable, Equatable {
    public var prefix: String
    public var shardCount: Int
    /// `MAXLEN ~` of each stream: the retained window a gateway can catch up within.
    public var maxLength: Int

    public init(prefix: String = "ticker", shardCount: Int = 4, maxLength: Int = 10_000) {
        self.prefix = prefix
        self.shardCount = max(1, shardCount)
        self.maxLength = max(1, maxLength)
    }

    public func shard(ofSymbol id: UInt32) -> Int { Int(id % UInt32(shardCount)) }
    public func streamKey(shard: Int) -> String { "\(prefix):s:\(shard)" }
    public func latestKey(shard: Int) -> String { "\(prefix):last:\(shard)" }
    public var epochKey: String { "\(prefix):epoch" }

    /// One batch of one shard as a transaction: the stream entry and the latest-record
    /// hash change together or not at all. `latest` is (symbol id, encoded record).
    public func appendCommands(shard: Int, epoch: UInt64, batch: [UInt8], latest: [(UInt32, [UInt8])]) -> [[[UInt8]]] {
        var commands: [[[UInt8]]] = [[bytes("MULTI")]]
        commands.append([bytes("XADD"), bytes(streamKey(shard: shard)), bytes("MAXLEN"), bytes("~"), bytes(String(maxLength)),
                         bytes("*"), bytes("epoch"), bytes(String(epoch)), bytes("batch"), batch])
        if !latest.isEmpty {
            var hset: [[UInt8]] = [bytes("HSET"), bytes(latestKey(shard: shard))]
            for (id, record) in latest {
                hset.append(bytes(String(id)))
                hset.append(record)
            }
            commands.append(hset)
        }
        commands.append([bytes("EXEC")])
        return commands
    }

    /// `XREAD [BLOCK ms] COUNT n STREAMS key… id…`, from each shard's last id.
    public func readCommand(after ids: [StreamID], blockMs: Int?, count: Int) -> [[UInt8]] {
        var command: [[UInt8]] = [bytes("XREAD")]
        if let blockMs { command += [bytes("BLOCK"), bytes(String(blockMs))] }
        command += [bytes("COUNT"), bytes(String(count)), bytes("STREAMS")]
        command += (0..<ids.count).map { bytes(streamKey(shard: $0)) }
        command += ids.map { bytes($0.description) }
        return command
    }

    public struct Entry: Equatable, Sendable {
        public var shard: Int
        public var id: StreamID
        public var epoch: UInt64
        public var batch: [UInt8]

        public init(shard: Int, id: StreamID, epoch: UInt64, batch: [UInt8]) {
            self.shard = shard
            self.id = id
            self.epoch = epoch
            self.batch = batch
        }
    }

    public enum DecodeError: Error, Equatable, Sendable {
        /// The reply does not have the XREAD shape (stream, entries, id, fields).
        case unexpectedShape
        case unknownStream(String)
        case badEntryID(String)
        /// An entry without a numeric `epoch` or without `batch`.
        case missingField(String)
    }

    /// Decodes an XREAD reply (RESP2 arrays or RESP3 map); a null reply (BLOCK timed
    /// out) is no entries. Entries keep the stream's order per shard.
    public func decodeRead(_ reply: RESPValue) throws(DecodeError) -> [Entry] {
        if reply == .null { return [] }
        let streams: [(RESPValue, RESPValue)]
        if case .map(let pairs) = reply {
            streams = pairs.map { ($0.key, $0.value) }
        } else if let elements = reply.elements {
            streams = try elements.map { (stream: RESPValue) throws(DecodeError) -> (RESPValue, RESPValue) in
                guard let pair = stream.elements, pair.count == 2 else { throw .unexpectedShape }
                return (pair[0], pair[1])
            }
        } else {
            throw .unexpectedShape
        }
        var entries: [Entry] = []
        for (key, list) in streams {
            guard let name = key.string else { throw .unexpectedShape }
            guard let shard = (0..<shardCount).first(where: { streamKey(shard: $0) == name }) else {
                throw .unknownStream(name)
            }
            guard let items = list.elements else { throw .unexpectedShape }
            for item in items {
                guard let parts = item.elements, parts.count == 2, let idText = parts[0].string,
                      let fields = parts[1].elements, fields.count % 2 == 0 else { throw .unexpectedShape }
                guard let id = StreamID(idText) else { throw .badEntryID(idText) }
                var epoch: UInt64?
                var batch: [UInt8]?
                for index in stride(from: 0, to: fields.count, by: 2) {
                    switch fields[index].string {
                    case "epoch": epoch = fields[index + 1].string.flatMap { UInt64($0) }
                    case "batch": batch = fields[index + 1].bytes
                    default: break
                    }
                }
                guard let epoch else { throw .missingField("epoch") }
                guard let batch else { throw .missingField("batch") }
                entries.append(Entry(shard: shard, id: id, epoch: epoch, batch: batch))
            }
        }
        return entries
    }
}

@inline(__always) private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
