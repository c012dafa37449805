import BenchSupport
import MarketData

/// The delta encoding as the fleet reads it (docs/PROTOCOL.md, "Delta
/// encoding"): the protocol's constants (`TickDelta.Presence`), but a
/// reader of its own, written from the protocol rather than the server's
/// encoder, reading only what the measurements need. Per record: the symbol,
/// the presence byte, flags and count when present, the sequence (a
/// keyframe's own, a delta's implied by the sequence rule from this
/// connection's last one) and the event time (send time minus the record's
/// time field); the price and size fields are skipped varint by varint.
extension BenchConnection {
    /// Reads one unsigned LEB128 varint at `at`, before `end`; nil when it runs past.
    @inline(__always)
    private func varint(_ data: UnsafeRawBufferPointer, _ at: inout Int, _ end: Int) -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while at < end, shift < 64 {
            let byte = data[at]
            at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    /// Scans one delta message's records (the payload starts at `payload`,
    /// ends at `end`); records them in the ledger and the histograms and
    /// returns how many it read. A malformed record stops the scan: the
    /// ledger then sees the rest as missing, which fails the run's check.
    func scanDelta(_ data: UnsafeRawBufferPointer, payload: Int, end: Int, now: Int64, arrival: Int64) -> Int {
        let count = Int(data.load(fromByteOffset: payload + TickWire.HeaderField.recordCount, as: UInt16.self).littleEndian)
        let sent = Int64(bitPattern: data.loadUnaligned(fromByteOffset: payload + TickWire.HeaderField.sendTime, as: UInt64.self).littleEndian)
        var at = payload + TickWire.headerSize
        var runEvent: Int64 = 0, runLength = 0, read = 0, keys = 0
        func flushRun() {
            guard runLength > 0 else { return }
            fleet.recordRun(event: runEvent, count: runLength, sent: sent, arrival: arrival, now: now)
        }
        while read < count {
            guard let symbol64 = varint(data, &at, end), at < end else { break }
            let symbol = Int(symbol64)
            let presence = data[at]
            at += 1
            var flags: UInt8 = 0, conflated: UInt64 = 0
            if presence & TickDelta.Presence.extended != 0 {
                guard at < end else { break }
                flags = data[at]
                at += 1
                guard let c = varint(data, &at, end) else { break }
                conflated = c
            }
            let isKeyframe = presence & TickDelta.Presence.keyframe != 0
            var sequence: UInt64
            if isKeyframe {
                guard let s = varint(data, &at, end), at < end else { break }
                sequence = s
                at += 1   // priceExponent
                keys += 1
            } else {
                sequence = symbol < ledger.symbolCapacity ? ledger.lastSequence(symbol) &+ 1 &+ conflated : 0
            }
            guard let zigzag = varint(data, &at, end) else { break }
            let age = Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1)))
            let fields = isKeyframe ? 6 : (presence & TickDelta.Presence.deltaFields).nonzeroBitCount
            var ok = true
            for _ in 0..<fields where varint(data, &at, end) == nil { ok = false; break }
            guard ok else { break }
            if symbol < ledger.symbolCapacity {
                ledger.record(symbol: symbol, sequence: sequence, snapshot: flags & 1 != 0,
                              conflatedCount: UInt32(truncatingIfNeeded: conflated))
            }
            let event = sent &- age
            if event == runEvent {
                runLength += 1
            } else {
                flushRun()
                runEvent = event
                runLength = 1
            }
            read += 1
        }
        flushRun()
        if keys > 0 { fleet.counters.keyframes.wrappingAdd(keys, ordering: .relaxed) }
        return read
    }
}
