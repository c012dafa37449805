import BenchSupport
import Testing

@Suite struct StrictSequenceCheckTests {
    let conflated = StrictSequenceCheck.conflatedFlag
    let snapshot = StrictSequenceCheck.snapshotFlag

    @Test func firstRecordIsTheBaselineThenContiguous() {
        var c = StrictSequenceCheck(symbolCount: 4)
        #expect(c.check(symbol: 1, sequence: 40, flags: 0, conflatedCount: 0) == .baseline)
        #expect(c.check(symbol: 1, sequence: 41, flags: 0, conflatedCount: 0) == .next)
        #expect(c.check(symbol: 2, sequence: 0, flags: snapshot, conflatedCount: 0) == .baseline)
        #expect(c.check(symbol: 2, sequence: 1, flags: 0, conflatedCount: 0) == .next, "a baseline of 0 is a baseline")
        #expect(c.violations == 0)
        #expect(c.snapshots == 1)
    }

    @Test func conflatedJumpMustBeFlaggedAndCounted() {
        var c = StrictSequenceCheck(symbolCount: 1)
        c.check(symbol: 0, sequence: 10, flags: 0, conflatedCount: 0)
        #expect(c.check(symbol: 0, sequence: 15, flags: conflated, conflatedCount: 4) == .conflated)
        #expect(c.check(symbol: 0, sequence: 16, flags: conflated, conflatedCount: 0) == .next,
                "flagged with nothing swallowed is simply the next record")
        #expect(c.check(symbol: 0, sequence: 20, flags: conflated, conflatedCount: 1) == .violation(.countMismatch))
        #expect(c.check(symbol: 0, sequence: 23, flags: 0, conflatedCount: 2) == .violation(.unflaggedCount))
        #expect(c.check(symbol: 0, sequence: 30, flags: 0, conflatedCount: 0) == .violation(.gap))
        #expect(c.check(symbol: 0, sequence: 31, flags: 0, conflatedCount: 0) == .next, "resynchronised after a gap")
        #expect(c.violations == 3)
        #expect(c.conflatedRecords == 3)
        #expect(c.swallowed == 5)
    }

    @Test func duplicatesReorderingAndSnapshots() {
        var c = StrictSequenceCheck(symbolCount: 1)
        c.check(symbol: 0, sequence: 5, flags: 0, conflatedCount: 0)
        #expect(c.check(symbol: 0, sequence: 5, flags: 0, conflatedCount: 0) == .violation(.duplicate))
        #expect(c.check(symbol: 0, sequence: 3, flags: 0, conflatedCount: 0) == .violation(.reordered))
        #expect(c.check(symbol: 0, sequence: 2, flags: snapshot, conflatedCount: 0) == .baseline, "a snapshot resets the baseline")
        #expect(c.check(symbol: 0, sequence: 3, flags: 0, conflatedCount: 0) == .next)
        #expect(c.check(symbol: 0, sequence: 3, flags: 0, conflatedCount: 1) == .violation(.duplicate))
        #expect(c.check(symbol: 9, sequence: 1, flags: 0, conflatedCount: 0) == .violation(.unknownSymbol))
        #expect(c.violationSummary.hasPrefix("4 (duplicate 2, reordered 1, unknownSymbol 1)"))
    }
}

@Suite struct FaultParsingTests {
    @Test func loadAverage() {
        #expect(FaultParsing.loadAverage("0.64 0.51 0.22 2/124 4848\n") == "0.64 0.51 0.22")
        #expect(FaultParsing.loadAverage("garbage") == nil)
    }

    @Test func openFilesLimit() {
        let text = """
        Limit                     Soft Limit           Hard Limit           Units
        Max processes             95000                95000                processes
        Max open files            20000                20000                files
        """
        #expect(FaultParsing.openFilesLimit(text)! == ("20000", "20000"))
    }

    @Test func metricSample() {
        let text = """
        # TYPE ticker_closes_total counter
        ticker_closes_total{code="4001"} 7
        ticker_closes_total{code="4002"} 0
        ticker_process_resident_bytes 1.5e+07
        """
        #expect(FaultParsing.metric("ticker_closes_total{code=\"4001\"}", in: text) == 7)
        #expect(FaultParsing.metric("ticker_process_resident_bytes", in: text) == 15_000_000)
        #expect(FaultParsing.metric("ticker_closes", in: text) == nil)
    }

    @Test func responseHead() throws {
        let bytes = Array("HTTP/1.1 503 Service Unavailable\r\nRetry-After:  1 \r\nContent-Length: 0\r\n\r\nrest".utf8)
        let head = try #require(FaultParsing.responseHead(bytes)).get()
        #expect(head.status == 503)
        #expect(head.reason == "Service Unavailable")
        #expect(head.headers["retry-after"] == "1")
        #expect(head.length == bytes.count - 4)
        #expect(FaultParsing.responseHead(Array("HTTP/1.1 200 OK\r\n".utf8)) == nil)
        #expect(FaultParsing.responseHead(Array("\u{15}\u{3}\u{1}xyz".utf8)) == .failure(.init()))
    }

    @Test func closeCodeAndSizes() {
        #expect(FaultParsing.closeCode(payload: [0x0F, 0xA1, 0x61]) == 4001)
        #expect(FaultParsing.closeCode(payload: [UInt8]()) == 1005)
        #expect(FaultParsing.size("1.5G") == 1_610_612_736)
        #expect(FaultParsing.size("512K") == 524_288)
        #expect(FaultParsing.size("50m") == 52_428_800)
        #expect(FaultParsing.size("123") == 123)
        #expect(FaultParsing.size("-1") == nil)
        #expect(FaultParsing.bytes(1_610_612_736) == "1.50 GiB")
        #expect(FaultParsing.bytes(52_428_800) == "50.0 MiB")
        #expect(FaultParsing.fixed(0.999, 2) == "1.00")
        #expect(FaultParsing.fixed(-2.25, 1) == "-2.3")
    }
}
