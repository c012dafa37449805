import Foundation
import PosixIO
import Testing

/// `Syscall.readStamped` (the load generator's kernel arrival time, used to
/// split a record's latency into the server's delivery and the reader's
/// delay): on a loopback TCP pair the stamp lies between the write and the
/// read, and a socket without stamps turned on reports 0.
@Suite struct ArrivalStampTests {
    /// A connected loopback pair: (client, accepted).
    private func pair() throws -> (Int32, Int32) {
        let listenFD = try Syscall.listen(host: "127.0.0.1", port: 0, reusePort: false)
        defer { Syscall.close(listenFD) }
        let client = try Syscall.connect(host: "127.0.0.1", port: Syscall.localPort(listenFD))
        return (client, try acceptOne(listenFD))
    }

    /// Reads until `count` bytes came, returning the stamp of each read.
    private func readAll(_ fd: Int32, count: Int) throws -> [UInt64] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4_096, alignment: 8)
        defer { buffer.deallocate() }
        var got = 0, stamps: [UInt64] = []
        let deadline = Date().addingTimeInterval(10)
        while got < count {
            let (result, arrival) = try Syscall.readStamped(fd, into: buffer)
            switch result {
            case .processed(0): throw TestError.timeout("peer closed")
            case .processed(let n): got += n; stamps.append(arrival)
            case .wouldBlock:
                guard Date() < deadline else { throw TestError.timeout("read") }
                usleep(1_000)
            }
        }
        return stamps
    }

    @Test func aStampedReadReportsWhenTheBytesArrived() throws {
        let (client, server) = try pair()
        defer { Syscall.close(client); Syscall.close(server) }
        try Syscall.enableArrivalStamps(client)
        // The kernel turns stamping on for the host a moment later (a
        // deferred static-key switch): until then reads carry no stamp.
        let on = Date().addingTimeInterval(5)
        var stamped = false
        while !stamped && Date() < on {
            _ = try [UInt8(0)].withUnsafeBytes { try Syscall.send(server, $0) }
            stamped = try readAll(client, count: 1).allSatisfy { $0 > 0 }
            if !stamped { usleep(5_000) }
        }
        #expect(stamped, "no arrival stamp within 5 s of SO_TIMESTAMPNS")
        let bytes = [UInt8](repeating: 7, count: 100)
        let before = Clock.wallNanos()
        _ = try bytes.withUnsafeBytes { try Syscall.send(server, $0) }
        let stamps = try readAll(client, count: bytes.count)
        let after = Clock.wallNanos()
        #expect(!stamps.isEmpty)
        for stamp in stamps {
            #expect(stamp >= before, "arrival \(stamp) before the write at \(before)")
            #expect(stamp <= after, "arrival \(stamp) after the read at \(after)")
        }
    }

    @Test func withoutStampsTheArrivalIsZero() throws {
        let (client, server) = try pair()
        defer { Syscall.close(client); Syscall.close(server) }
        let bytes = [UInt8](repeating: 1, count: 10)
        _ = try bytes.withUnsafeBytes { try Syscall.send(server, $0) }
        #expect(try readAll(client, count: bytes.count).allSatisfy { $0 == 0 })
    }
}

