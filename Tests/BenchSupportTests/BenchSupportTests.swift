import BenchSupport
import Testing

@Suite struct LatencyHistogramTests {
    @Test func emptyHasNoPercentiles() {
        let h = LatencyHistogram()
        #expect(h.percentileMicros(0.5) == nil)
        #expect(h.meanMicros == nil)
    }

    @Test func oneSampleIsEveryPercentile() {
        var h = LatencyHistogram()
        h.record(nanos: 2_500)
        #expect(h.percentileMicros(0.5) == 3)
        #expect(h.percentileMicros(0.999) == 3)
        #expect(h.maxMicros == 2.5)
    }

    @Test func nearestRankOnKnownSamples() {
        var h = LatencyHistogram()
        for us in 1...100 { h.record(nanos: Int64(us) * 1_000 - 500) }   // 0.5 µs .. 99.5 µs
        #expect(h.count == 100)
        #expect(h.percentileMicros(0.50) == 50)
        #expect(h.percentileMicros(0.99) == 99)
        #expect(h.percentileMicros(0.999) == 100, "p999 of 100 samples is the largest")
        #expect(h.meanMicros == 50)
    }

    @Test func aSparseCopyMergesLikeTheOriginal() {
        var a = LatencyHistogram()
        for us in 1...100 { a.record(nanos: Int64(us) * 1_000 - 500) }
        a.record(nanos: 5_000_000_000)   // overflow
        var b = LatencyHistogram()
        b.record(nanos: 7_200, count: 3)
        var merged = LatencyHistogram(sparse: a.sparse)
        merged.merge(LatencyHistogram(sparse: b.sparse))
        var direct = a
        direct.merge(b)
        #expect(merged.count == direct.count && merged.overflow == 1)
        #expect(merged.percentileMicros(0.5) == direct.percentileMicros(0.5))
        #expect(merged.percentileMicros(0.99) == direct.percentileMicros(0.99))
        #expect(merged.maxMicros == direct.maxMicros && merged.meanMicros == direct.meanMicros)
    }

    @Test func overflowAndNegativeSamples() {
        var h = LatencyHistogram()
        h.record(nanos: -5)
        h.record(nanos: 3_000_000_000)
        #expect(h.overflow == 1)
        #expect(h.percentileMicros(0.5) == 1)
        #expect(h.percentileMicros(1.0) == 3_000_000, "beyond the buckets: the exact maximum")
    }

    @Test func mergeAddsCounts() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(nanos: 1_000)
        b.record(nanos: 9_000)
        a.merge(b)
        #expect(a.count == 2)
        #expect(a.percentileMicros(1.0) == 10)
    }

    @Test func sortedPercentilesAndRates() {
        #expect(percentile(sorted: [], 0.5) == nil)
        #expect(percentile(sorted: [7], 0.99) == 7)
        #expect(percentile(sorted: (1...1000).map(Double.init), 0.999) == 999)
        #expect(percentile(sorted: (1...10).map(Double.init), 0.5) == 5)
        #expect(rate(1_000, seconds: 0.5) == 2_000)
        #expect(rate(5, seconds: 0) == 0)
    }
}

@Suite struct SequenceLedgerTests {
    @Test func contiguousIsClean() {
        var l = SequenceLedger(symbolCount: 2)
        #expect(l.record(symbol: 0, sequence: 5, snapshot: true, conflatedCount: 0) == .baseline)
        #expect(l.record(symbol: 0, sequence: 6, snapshot: false, conflatedCount: 0) == .ok)
        #expect(l.record(symbol: 1, sequence: 1, snapshot: false, conflatedCount: 0) == .baseline)
        #expect(l.record(symbol: 1, sequence: 2, snapshot: false, conflatedCount: 0) == .ok)
        #expect(l.isClean)
        #expect(l.records == 4)
    }

    @Test func detectsAMissingRecord() {
        var l = SequenceLedger(symbolCount: 1)
        l.record(symbol: 0, sequence: 1, snapshot: false, conflatedCount: 0)
        #expect(l.record(symbol: 0, sequence: 4, snapshot: false, conflatedCount: 0) == .gap)
        #expect(l.missing == 2)
        #expect(!l.isClean)
    }

    @Test func detectsDuplicateAndReordering() {
        var l = SequenceLedger(symbolCount: 1)
        l.record(symbol: 0, sequence: 1, snapshot: false, conflatedCount: 0)
        l.record(symbol: 0, sequence: 2, snapshot: false, conflatedCount: 0)
        #expect(l.record(symbol: 0, sequence: 2, snapshot: false, conflatedCount: 0) == .duplicate)
        #expect(l.record(symbol: 0, sequence: 1, snapshot: false, conflatedCount: 0) == .reordered)
        #expect(l.duplicates == 1 && l.reordered == 1)
    }

    @Test func acceptsDeclaredConflation() {
        var l = SequenceLedger(symbolCount: 1)
        l.record(symbol: 0, sequence: 10, snapshot: false, conflatedCount: 0)
        #expect(l.record(symbol: 0, sequence: 14, snapshot: false, conflatedCount: 3) == .ok)
        #expect(l.conflated == 3)
        #expect(l.isClean)
    }

    @Test func snapshotResetsTheBaseline() {
        var l = SequenceLedger(symbolCount: 1)
        l.record(symbol: 0, sequence: 10, snapshot: false, conflatedCount: 0)
        #expect(l.record(symbol: 0, sequence: 50, snapshot: true, conflatedCount: 0) == .baseline)
        #expect(l.isClean)
    }
}

@Suite struct ProcStatsTests {
    @Test func parsesStatWithSpacesInTheName() {
        let stat = "1234 (ticker serve) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 3 0 100 1000 200"
        #expect(ProcStats.cpuTicks(statText: stat) == 375)
        #expect(ProcStats.cpuTicks(statText: "garbage") == nil)
    }

    @Test func parsesRSS() {
        let status = "Name:\tticker\nVmPeak:\t  20000 kB\nVmRSS:\t    2048 kB\nThreads:\t3\n"
        #expect(ProcStats.residentBytes(statusText: status) == 2048 * 1024)
        #expect(ProcStats.residentBytes(statusText: "Name: x\n") == nil)
    }
}

@Suite struct SVGChartTests {
    @Test func chartHasBothSeriesAndLabels() {
        let svg = SVGChart.dualAxis(
            title: "sweep", xLabel: "clients",
            left: ("frames/s", [.init(x: 100, y: 1e6), .init(x: 1000, y: 2e6)]),
            right: ("p99 ms", [.init(x: 100, y: 0.2), .init(x: 1000, y: 0.9)]))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("frames/s") && svg.contains("p99 ms"))
        #expect(SVGChart.short(2_000_000) == "2M")
        #expect(SVGChart.short(1_234) == "1.23k")
    }
}

@Suite struct WeightedHistogramTests {
    @Test func weightedRecordEqualsRepeatedRecords() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(nanos: 4_200, count: 3)
        for _ in 0..<3 { b.record(nanos: 4_200) }
        #expect(a.count == b.count)
        #expect(a.percentileMicros(0.5) == b.percentileMicros(0.5))
        #expect(a.meanMicros == b.meanMicros)
    }
}
