import BenchSupport
import Dispatch
import Foundation
import MarketData
import PosixIO
import Synchronization
import WebSocketProtocol

/// Counters the fleet thread writes and the driver thread reads.
final class FleetCounters: Sendable {
    let records = Atomic<Int>(0)
    let frames = Atomic<Int>(0)
    let bytes = Atomic<Int>(0)
    let ready = Atomic<Int>(0)
    /// Delta records that came as keyframes (the rest are deltas).
    let keyframes = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    /// When `records` reaches this, `reached` is signalled once.
    let target = Atomic<Int>(Int.max)
    let reached = DispatchSemaphore(value: 0)
}

/// What the fleet measured, handed back to the driver at the end.
struct FleetResult: Sendable {
    var histogram: LatencyHistogram
    /// Each record's time inside the server until queued: the message's
    /// `sendTimeNs` minus the record's event time. Receipt latency minus
    /// this is the write, the kernel and the reader.
    var queued: LatencyHistogram
    /// Each record's arrival in the client's socket (the kernel's receive
    /// stamp of the last segment of the read that took it) minus its event
    /// time: delivery without the generator's own delay in reading it.
    var arrived: LatencyHistogram
    var ledger: SequenceLedger
}

/// N WebSocket clients on one epoll loop thread (never a thread per client).
/// Frames are scanned in place in the read buffer: the generator must be
/// cheaper per message than the server it measures.
///
/// Confinement: every mutable field is touched only on the fleet's loop
/// thread; the driver talks to it through `loop.waker.execute` and the
/// atomic `counters`. That discipline is why it may be `@unchecked Sendable`.
final class Fleet: @unchecked Sendable {
    let counters = FleetCounters()
    let symbolCount: Int
    private let thread = LoopThread(name: "bench-fleet")
    private var loop: EventLoop { thread.loop }
    private var connections: [BenchConnection] = []
    var histogram = LatencyHistogram()
    var queuedHistogram = LatencyHistogram()
    var arrivedHistogram = LatencyHistogram()
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)

    init(symbolCount: Int) {
        self.symbolCount = symbolCount
        thread.keepAlive(self)
    }

    /// Runs `body` on the fleet thread and waits for it.
    func sync<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T { thread.sync(body) }

    /// Opens one connection per query (e.g. "symbols=AAPL,MSFT"); `texts` is
    /// how many text frames mean "ready" (welcome, plus the subscribe ack).
    func open(port: UInt16, path: String, queries: [String], receiveBuffer: Int = 0) {
        sync { [self] in
            for query in queries {
                let target = query.isEmpty ? path : "\(path)?\(query)"
                let c = BenchConnection(fleet: self, target: target, readyTexts: query.contains("symbols=") ? 2 : 1)
                do {
                    c.fd = try Syscall.connect(
                        host: "127.0.0.1", port: port, from: LoopbackSources.address(connections.count),
                        receiveBuffer: receiveBuffer)
                    try Syscall.enableArrivalStamps(c.fd)
                    c.token = try loop.register(fd: c.fd, events: EpollEvents.writable, handler: c)
                    connections.append(c)
                } catch {
                    counters.closed.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
    }

    func modify(_ c: BenchConnection, events: UInt32) {
        try? loop.modify(fd: c.fd, token: c.token, events: events)
    }

    func dropped(_ c: BenchConnection) {
        loop.unregister(fd: c.fd, token: c.token)
        Syscall.close(c.fd)
        counters.closed.wrappingAdd(1, ordering: .relaxed)
    }

    /// Starts a fresh measurement window.
    func resetMeasurements() {
        sync { [self] in
            histogram = LatencyHistogram()
            queuedHistogram = LatencyHistogram()
            arrivedHistogram = LatencyHistogram()
            counters.records.store(0, ordering: .relaxed)
            counters.frames.store(0, ordering: .relaxed)
            counters.bytes.store(0, ordering: .relaxed)
            counters.keyframes.store(0, ordering: .relaxed)
        }
    }

    func result() -> FleetResult {
        sync { [self] in
            var ledger = SequenceLedger(symbolCount: symbolCount)
            for c in connections { ledger.absorbCounts(c.ledger) }
            return FleetResult(histogram: histogram, queued: queuedHistogram, arrived: arrivedHistogram, ledger: ledger)
        }
    }

    /// Per-connection last sequence of one symbol (for exact-count checks).
    func lastSequences(symbol: Int) -> [UInt64] {
        sync { [self] in connections.map { $0.ledger.lastSequence(symbol) } }
    }

    func closeAll() {
        sync { [self] in
            for c in connections where c.fd >= 0 {
                loop.unregister(fd: c.fd, token: c.token)
                Syscall.close(c.fd)
                c.fd = -1
            }
            connections.removeAll()
        }
    }

    /// Records `count` records of one event time: latency at the read,
    /// time in the server until queued, and time until arrival in the socket.
    @inline(__always)
    func recordRun(event: Int64, count: Int, sent: Int64, arrival: Int64, now: Int64) {
        histogram.record(nanos: now - event, count: count)
        queuedHistogram.record(nanos: sent - event, count: count)
        arrivedHistogram.record(nanos: arrival - event, count: count)
    }

    /// Called by connections after counting records.
    @inline(__always)
    func checkTarget() {
        let target = counters.target.load(ordering: .relaxed)
        if counters.records.load(ordering: .relaxed) >= target,
           counters.target.compareExchange(expected: target, desired: Int.max, ordering: .relaxed).exchanged {
            counters.reached.signal()
        }
    }
}

/// One client connection of the fleet.
final class BenchConnection: EventHandler {
    /// The fleet outlives its connections (it closes them all before it
    /// goes); unowned(unsafe) spares a strong retain on every read.
    unowned(unsafe) let fleet: Fleet
    let target: String
    let readyTexts: Int
    var fd: Int32 = -1
    var token = EventToken.none
    private var handshakeDone = false
    private var head: [UInt8] = []
    private var carry: [UInt8] = []
    private var texts = 0
    var ledger: SequenceLedger

    init(fleet: Fleet, target: String, readyTexts: Int) {
        self.fleet = fleet
        self.target = target
        self.readyTexts = readyTexts
        ledger = SequenceLedger(symbolCount: fleet.symbolCount)
    }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        if !handshakeDone && head.isEmpty && events & EpollEvents.writable != 0 {
            if Syscall.socketError(fd) != nil { fleet.dropped(self); fd = -1; return }
            let request = WebSocketHandshake.clientRequest(host: "127.0.0.1", path: target)
            _ = request.bytes.withUnsafeBytes { try? Syscall.send(fd, $0) }
            head = [0]   // marks "request sent"
            // Edge-triggered: the reader below stops at a short read, which
            // leaves the socket empty, so no arrival is missed; level-triggered
            // would poll every socket read once more at the next wait.
            fleet.modify(self, events: EpollEvents.readable | EpollEvents.edgeTriggered)
            return
        }
        guard fd >= 0 else { return }
        let buffer = fleet.readBuffer
        while true {
            let result: IOResult, arrival: UInt64
            do { (result, arrival) = try Syscall.readStamped(fd, into: buffer) } catch { fleet.dropped(self); fd = -1; return }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                fleet.dropped(self)
                fd = -1
                return
            case .processed(let n):
                fleet.counters.bytes.wrappingAdd(n, ordering: .relaxed)
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), arrival: Int64(bitPattern: arrival))
                if n < buffer.count { return }
            }
        }
    }

    private func consume(_ input: UnsafeRawBufferPointer, arrival: Int64) {
        if !handshakeDone {
            head.append(contentsOf: input)
            guard let end = head.firstRange(of: [13, 10, 13, 10]) else { return }
            guard head.count > 13, head[10...12] == [49, 48, 49] else {   // "101" after "\0HTTP/1.1 "
                fleet.dropped(self)
                fd = -1
                return
            }
            handshakeDone = true
            let rest = Array(head[end.upperBound...])
            head = []
            let used = rest.withUnsafeBytes { scan($0, arrival: arrival) }
            if used < rest.count { carry = Array(rest[used...]) }
            return
        }
        if carry.isEmpty {
            let used = scan(input, arrival: arrival)
            if used < input.count { carry.append(contentsOf: input[used...]) }
        } else {
            carry.append(contentsOf: input)
            let used = carry.withUnsafeBytes { scan($0, arrival: arrival) }
            carry.removeFirst(used)
        }
    }

    /// Scans whole frames; returns how many bytes it consumed.
    @discardableResult
    private func scan(_ data: UnsafeRawBufferPointer, arrival stamp: Int64) -> Int {
        var at = 0
        let now = Int64(bitPattern: Clock.wallNanos())
        let arrival = stamp > 0 ? min(stamp, now) : now
        var records = 0, frames = 0
        while data.count - at >= 2 {
            guard let frame = FrameExtent.of(data, at: at) else { break }
            let b0 = data[at]
            let length = frame.payloadLength
            let headerSize = frame.headerSize
            let payload = at + headerSize
            switch b0 & 0x0F {
            case 0x2 where data[payload + 1] == TickDelta.messageType:
                frames += 1
                records += scanDelta(data, payload: payload, end: payload + length, now: now, arrival: arrival)
            case 0x2:
                frames += 1
                let count = Int(data.load(fromByteOffset: payload + TickWire.HeaderField.recordCount, as: UInt16.self).littleEndian)
                let size = Int(data.load(fromByteOffset: payload + TickWire.HeaderField.recordSize, as: UInt16.self).littleEndian)
                let sent = Int64(bitPattern: data.loadUnaligned(fromByteOffset: payload + TickWire.HeaderField.sendTime, as: UInt64.self).littleEndian)
                var r = payload + TickWire.headerSize
                // Records stamped with the same event time (one publish) have the
                // same latency: one weighted histogram entry per run of them.
                var runEvent: Int64 = 0, runLength = 0
                for _ in 0..<count {
                    let symbol = Int(data.loadUnaligned(fromByteOffset: r + TickWire.RecordField.symbolId, as: UInt32.self).littleEndian)
                    let flags = data[r + TickWire.RecordField.flags]
                    let seq = data.loadUnaligned(fromByteOffset: r + TickWire.RecordField.sequence, as: UInt64.self).littleEndian
                    let event = Int64(bitPattern: data.loadUnaligned(fromByteOffset: r + TickWire.RecordField.eventTime, as: UInt64.self).littleEndian)
                    let conflated = data.loadUnaligned(fromByteOffset: r + TickWire.RecordField.conflatedCount, as: UInt32.self).littleEndian
                    if symbol < ledger.symbolCapacity {
                        ledger.record(symbol: symbol, sequence: seq, snapshot: flags & 1 != 0, conflatedCount: conflated)
                    }
                    if event == runEvent {
                        runLength += 1
                    } else {
                        if runLength > 0 { fleet.recordRun(event: runEvent, count: runLength, sent: sent, arrival: arrival, now: now) }
                        runEvent = event
                        runLength = 1
                    }
                    r += size
                }
                if runLength > 0 { fleet.recordRun(event: runEvent, count: runLength, sent: sent, arrival: arrival, now: now) }
                records += count
            case 0x1:
                texts += 1
                if texts == readyTexts { fleet.counters.ready.wrappingAdd(1, ordering: .relaxed) }
            case 0x9:
                let pong = WebSocketFrameEncoder.encode(
                    opcode: .pong, payload: UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]),
                    maskKey: UInt32.random(in: 1...UInt32.max))
                _ = pong.withUnsafeBytes { try? Syscall.send(fd, $0) }
            case 0x8:
                fleet.counters.closed.wrappingAdd(1, ordering: .relaxed)
            default:
                break
            }
            at += headerSize + length
        }
        if records > 0 {
            fleet.counters.records.wrappingAdd(records, ordering: .relaxed)
            fleet.counters.frames.wrappingAdd(frames, ordering: .relaxed)
            fleet.checkTarget()
        }
        return at
    }
}
