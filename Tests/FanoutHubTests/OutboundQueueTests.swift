import Testing
import WebSocketProtocol
@testable import FanoutHub

/// Collects the queue's readable bytes in order, as a flush would send them.
func contents(_ q: OutboundQueue) -> [UInt8] {
    var out: [UInt8] = []
    q.forEachSegment { out += $0; return true }
    return out
}

@Suite struct OutboundQueueTests {
    /// A reader that always has a backlog never empties the queue: every
    /// chunk it has drained must be freed anyway, so the queue holds its
    /// backlog plus at most the partly filled tail and one spare.
    @Test func drainedChunksAreFreedWhileTheQueueNeverEmpties() {
        let q = OutboundQueue()
        let block = [UInt8](repeating: 7, count: 16 * 1024)
        var worst = 0
        for _ in 0..<400 {
            q.append(block)
            q.append(block)
            q.consume(min(q.count - 1, 24 * 1024))
            worst = max(worst, q.allocatedBytes - q.count)
        }
        #expect(q.count > 1_000_000)
        #expect(worst <= 2 * OutboundQueue.chunkSize, "slack \(worst) bytes")
        let before = q.count
        q.consume(before - 1)
        #expect(q.count == 1)
        #expect(q.allocatedBytes <= 2 * OutboundQueue.chunkSize)
    }

    @Test func appendAndConsumeAcrossChunks() {
        let q = OutboundQueue()
        let data = (0..<(OutboundQueue.chunkSize * 2 + 123)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        q.append(data)
        #expect(q.count == data.count)
        #expect(contents(q) == data)
        q.consume(10)
        #expect(contents(q) == Array(data[10...]))
        q.consume(OutboundQueue.chunkSize)
        #expect(contents(q) == Array(data[(10 + OutboundQueue.chunkSize)...]))
        q.consume(q.count)
        #expect(q.isEmpty)
        #expect(contents(q) == [])
    }

    @Test func reserveIsContiguousAndOrdered() {
        let q = OutboundQueue()
        q.append([1, 2, 3])
        let p = q.reserve(4)
        p.storeBytes(of: 0x0807_0605 as UInt32, as: UInt32.self)
        q.append([9])
        #expect(contents(q) == [1, 2, 3, 5, 6, 7, 8, 9])
    }

    @Test func reserveNeverStraddlesAChunk() {
        let q = OutboundQueue()
        q.append([UInt8](repeating: 7, count: OutboundQueue.chunkSize - 10))
        let p = q.reserve(64)
        p.initializeMemory(as: UInt8.self, repeating: 1, count: 64)
        #expect(q.count == OutboundQueue.chunkSize - 10 + 64)
        #expect(contents(q) == [UInt8](repeating: 7, count: OutboundQueue.chunkSize - 10) + [UInt8](repeating: 1, count: 64))
    }

    @Test func removeGapSlidesEarlierBytes() {
        let q = OutboundQueue()
        q.append([1, 2, 3])
        let prefix = q.reserve(10)
        (prefix + 8).storeBytes(of: 0xAA, as: UInt8.self)
        (prefix + 9).storeBytes(of: 0xBB, as: UInt8.self)
        q.append([4])
        q.removeGap(at: prefix, length: 8)
        #expect(contents(q) == [1, 2, 3, 0xAA, 0xBB, 4])
        #expect(q.count == 6)
    }

    /// Behind a long backlog the message after the gap is the shorter side:
    /// it moves back and later reserves continue right after it.
    @Test func removeGapMovesTheShorterSide() {
        let q = OutboundQueue()
        let backlog = [UInt8](repeating: 5, count: 1_000)
        q.append(backlog)
        let prefix = q.reserve(4)
        (prefix + 2).storeBytes(of: 0xAA, as: UInt8.self)
        (prefix + 3).storeBytes(of: 0xBB, as: UInt8.self)
        q.append([6, 7])
        q.removeGap(at: prefix, length: 2)
        #expect(contents(q) == backlog + [0xAA, 0xBB, 6, 7])
        #expect(q.count == 1_004)
        q.reserve(1).storeBytes(of: 8, as: UInt8.self)
        #expect(contents(q) == backlog + [0xAA, 0xBB, 6, 7, 8])
    }

    @Test func removeGapAfterPartialConsume() {
        let q = OutboundQueue()
        q.append([1, 2, 3, 4])
        q.consume(2)
        let prefix = q.reserve(3)
        (prefix + 2).storeBytes(of: 9, as: UInt8.self)
        q.removeGap(at: prefix, length: 2)
        #expect(contents(q) == [3, 4, 9])
    }

    @Test func largeReservationGetsItsOwnChunk() {
        let q = OutboundQueue()
        q.append([1])
        let n = OutboundQueue.chunkSize + 100
        let p = q.reserve(n)
        p.initializeMemory(as: UInt8.self, repeating: 2, count: n)
        #expect(q.count == n + 1)
        #expect(contents(q).count == n + 1)
        q.consume(n + 1)
        #expect(q.isEmpty)
    }

    @Test func steadyStreamReusesMemory() {
        let q = OutboundQueue()
        for _ in 0..<1000 {
            q.append([UInt8](repeating: 1, count: 5000))
            q.consume(5000)
        }
        #expect(q.isEmpty)
        #expect(q.allocatedBytes <= 2 * OutboundQueue.chunkSize)
        q.shrink()
        #expect(q.allocatedBytes == 0)
    }
}

@Suite struct FrameCursorTests {
    @Test func partialWritesTrackTheHeadFrame() {
        let q = OutboundQueue()
        q.append(WebSocketFrameEncoder.encode(opcode: .text, payload: [UInt8](repeating: 65, count: 10)))  // 12 bytes
        q.append(WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 1, count: 300)))  // 304 bytes
        var cursor = FrameCursor()
        cursor.advance(by: 5, in: q)
        q.consume(5)
        #expect(cursor.headRemaining == 7)
        cursor.advance(by: 7, in: q)
        q.consume(7)
        #expect(cursor.headRemaining == 0, "on the boundary")
        cursor.advance(by: 100, in: q)
        q.consume(100)
        #expect(cursor.headRemaining == 204)
        #expect(q.frameLength(at: 0) != 0)
        q.truncate(keepingFirst: cursor.headRemaining)
        #expect(q.count == 204)
        cursor.advance(by: 204, in: q)
        q.consume(204)
        #expect(cursor.headRemaining == 0 && q.isEmpty)
    }

    @Test func extendedLengthsAcrossChunks() {
        let q = OutboundQueue()
        _ = q.reserve(OutboundQueue.chunkSize - 3)
        q.consume(OutboundQueue.chunkSize - 3)
        let big = WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 7, count: 70_000))
        q.append(big)
        #expect(q.frameLength(at: 0) == big.count, "the 10-byte header straddles two chunks")
        #expect(q.bytes(from: 0, count: 10) == Array(big[0..<10]))
    }
}
