import BenchSupport
import Dispatch
import Foundation
import MarketData
import PosixIO
import Synchronization
import WebSocketProtocol
#if canImport(Glibc)
import Glibc
#endif
/// One probe client. Touched only on its fleet's thread.
final class ProbeConnection: EventHandler {
    unowned let fleet: ProbeFleet
    let target: String
    let readyTexts: Int
    let modeAfterReady: ReadMode
    let ageFromNanos: UInt64
    var fd: Int32 = -1
    var token = EventToken.none
    var registered = false
    var mode: ReadMode = .full
    var summary: ProbeSummary
    private var requestSent = false
    private var handshakeDone = false
    private var closing = false
    private var head: [UInt8] = []
    private var carry: [UInt8] = []
    private var textCount = 0
    private var bytesAtResume = 0
    var lastEventNs: Int64 = 0

    init(fleet: ProbeFleet, id: Int, target: String, readyTexts: Int, modeAfterReady: ReadMode, ageFromNanos: UInt64) {
        self.fleet = fleet
        self.target = target
        self.readyTexts = readyTexts
        self.modeAfterReady = modeAfterReady
        self.ageFromNanos = ageFromNanos
        summary = ProbeSummary(id: id)
        summary.ageFrom = UInt64.max
    }

    var isReady: Bool { summary.readyAt != 0 }

    func handleEvents(_ events: UInt32, loop: EventLoop) {
        guard fd >= 0 else { return }
        if !requestSent {
            if let error = Syscall.socketError(fd) { fail("\(error)"); return }
            let request = WebSocketHandshake.clientRequest(host: "127.0.0.1", path: target).bytes
            _ = request.withUnsafeBytes { try? Syscall.send(fd, $0) }
            requestSent = true
            fleet.register(self, events: EpollEvents.readable | EpollEvents.readHangUp)
            return
        }
        switch mode {
        case .full:
            readAll()
        case .paused, .budget:
            // Only a FIN / reset / error is reported here: note it, stop
            // listening (level-triggered epoll would repeat it), keep the data.
            if summary.pausedEvent == nil {
                var what: [String] = []
                if events & EpollEvents.readHangUp != 0 { what.append("FIN") }
                if events & EpollEvents.hangUp != 0 { what.append("HUP") }
                if events & EpollEvents.error != 0 { what.append("ERR") }
                summary.pausedEvent = what.joined(separator: "+")
                summary.pausedEventAt = Clock.monotonicNanos()
            }
            fleet.unregister(self)
        }
    }

    func apply(_ newMode: ReadMode) {
        guard fd >= 0 else { mode = newMode; return }
        let wasFull = mode == .full
        mode = newMode
        switch newMode {
        case .full:
            bytesAtResume = summary.bytes
            summary.bytesAtResume = bytesAtResume
            fleet.register(self, events: EpollEvents.readable | EpollEvents.readHangUp)
            if !wasFull { readAll() }
        case .paused, .budget:
            fleet.register(self, events: EpollEvents.readHangUp)
        }
    }

    private func readAll() {
        let buffer = fleet.readBuffer
        while fd >= 0 && mode == .full {
            let result: IOResult
            do { result = try Syscall.read(fd, into: buffer) } catch { fail("\(error)"); return }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                endOfStream()
                return
            case .processed(let n):
                consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { return }
            }
        }
    }

    /// One read of at most `budget` bytes (the slow reader's timer tick).
    func readBudget(_ budget: Int) {
        let buffer = UnsafeMutableRawBufferPointer(rebasing: fleet.readBuffer[0..<min(budget, fleet.readBuffer.count)])
        let result: IOResult
        do { result = try Syscall.read(fd, into: buffer) } catch { fail("\(error)"); return }
        switch result {
        case .wouldBlock: return
        case .processed(0): endOfStream()
        case .processed(let n): consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
    }

    private func endOfStream() {
        summary.eofAt = Clock.monotonicNanos()
        if !handshakeDone && summary.response == nil { summary.error = "EOF before any response" }
        release()
    }

    func fail(_ what: String) {
        if summary.error == nil {
            summary.error = what
            summary.errorAt = Clock.monotonicNanos()
        }
        release()
    }

    func release() {
        guard fd >= 0 else { return }
        fleet.unregister(self)
        Syscall.close(fd)
        fd = -1
        fleet.finishedCount.wrappingAdd(1, ordering: .relaxed)
    }

    private func consume(_ input: UnsafeRawBufferPointer) {
        if !handshakeDone {
            head.append(contentsOf: input)
            switch FaultParsing.responseHead(head) {
            case nil:
                return
            case .failure:
                fail("not an HTTP response: \(String(decoding: head.prefix(40), as: UTF8.self))")
                return
            case .success(let response):
                summary.response = response
                guard response.status == 101 else {
                    // A refusal: the head is what was asked for; hang up.
                    release()
                    return
                }
                handshakeDone = true
                let rest = Array(head[response.length...])
                head = []
                summary.bytes += rest.count
                carry = rest
                let used = carry.withUnsafeBytes { scan($0) }
                carry.removeFirst(min(used, carry.count))
                return
            }
        }
        summary.bytes += input.count
        if carry.isEmpty {
            let used = scan(input)
            if used < input.count && fd >= 0 { carry.append(contentsOf: input[used...]) }
        } else {
            carry.append(contentsOf: input)
            let used = carry.withUnsafeBytes { scan($0) }
            carry.removeFirst(min(used, carry.count))
        }
    }

    /// Scans whole frames in place; returns the bytes consumed.
    private func scan(_ data: UnsafeRawBufferPointer) -> Int {
        var at = 0
        let wall = Int64(bitPattern: Clock.wallNanos())
        let now = Clock.monotonicNanos()
        while data.count - at >= 2 && fd >= 0 {
            guard let frame = FrameExtent.of(data, at: at) else { break }
            let b0 = data[at]
            let length = frame.payloadLength
            let headerSize = frame.headerSize
            let payload = at + headerSize
            if closing { at += headerSize + length; continue }
            switch b0 & 0x0F {
            case 0x2:
                records(UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]), wall: wall, now: now)
            case 0x1:
                textCount += 1
                if summary.texts.count < 4 {
                    summary.texts.append(String(decoding: data[payload..<(payload + min(length, 300))], as: UTF8.self))
                }
                if textCount == readyTexts {
                    summary.readyAt = now
                    summary.ageFrom = now + ageFromNanos
                    fleet.readyCount.wrappingAdd(1, ordering: .relaxed)
                    if modeAfterReady != .full { apply(modeAfterReady) }
                }
            case 0x9:
                summary.pings += 1
                let pong = WebSocketFrameEncoder.encode(
                    opcode: .pong, payload: UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]),
                    maskKey: UInt32.random(in: 1...UInt32.max))
                _ = pong.withUnsafeBytes { try? Syscall.send(fd, $0) }
            case 0x8:
                let code = FaultParsing.closeCode(payload: UnsafeRawBufferPointer(rebasing: data[payload..<(payload + length)]))
                summary.closeCode = code
                summary.closeAt = now
                // Bytes of the stream read before this frame, since the last resume.
                let consumedBefore = summary.bytes - (data.count - at)
                summary.bytesBeforeClose = max(0, consumedBefore - bytesAtResume)
                closing = true
                // Answer as a browser would; the server then ends the TCP connection.
                let reply = WebSocketFrameEncoder.encodeClose(
                    code: WebSocketCloseCode(rawValue: UInt16(clamping: code)), reason: "",
                    maskKey: UInt32.random(in: 1...UInt32.max))
                _ = reply.withUnsafeBytes { try? Syscall.send(fd, $0) }
            default:
                break
            }
            at += headerSize + length
        }
        return at
    }

    private func records(_ message: UnsafeRawBufferPointer, wall: Int64, now: UInt64) {
        guard message.count >= TickWire.headerSize else { return }
        let count = Int(message.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordCount, as: UInt16.self).littleEndian)
        let size = Int(message.loadUnaligned(fromByteOffset: TickWire.HeaderField.recordSize, as: UInt16.self).littleEndian)
        guard size >= TickWire.recordSize, message.count >= TickWire.headerSize + count * size else { return }
        var r = TickWire.headerSize
        let aged = now >= summary.ageFrom
        var runEvent: Int64 = 0, runLength = 0
        for _ in 0..<count {
            let symbol = Int(message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.symbolId, as: UInt32.self).littleEndian)
            let flags = message[r + TickWire.RecordField.flags]
            let seq = message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.sequence, as: UInt64.self).littleEndian
            let event = Int64(bitPattern: message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.eventTime, as: UInt64.self).littleEndian)
            let conflatedCount = message.loadUnaligned(fromByteOffset: r + TickWire.RecordField.conflatedCount, as: UInt32.self).littleEndian
            summary.check?.check(symbol: symbol, sequence: seq, flags: flags, conflatedCount: conflatedCount)
            if flags & StrictSequenceCheck.conflatedFlag != 0 { summary.conflatedRecords += 1 }
            if event > lastEventNs { lastEventNs = event }
            if aged {
                let age = wall - event
                if age > summary.maxAgeNs { summary.maxAgeNs = age }
                if age > fleet.window.maxAgeNs { fleet.window.maxAgeNs = age }
                summary.recordsAfterAgeFrom += 1
            }
            if fleet.recordLatency {
                if event == runEvent {
                    runLength += 1
                } else {
                    if runLength > 0 { fleet.window.histogram?.record(nanos: wall - runEvent, count: runLength) }
                    runEvent = event
                    runLength = 1
                }
            }
            r += size
        }
        if runLength > 0 { fleet.window.histogram?.record(nanos: wall - runEvent, count: runLength) }
        summary.records += count
        fleet.window.records += count
    }
}

