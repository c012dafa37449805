import Foundation
import Testing
@testable import MarketData

@Suite struct SymbolTableTests {
    private let header = "symbol,price,volatility,tick_size,lot_size\n"

    private func csvError(_ csv: String) -> SymbolTableError? {
        do {
            _ = try SymbolTable(csv: csv)
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsTheFixtureWithAtLeast500UniqueSymbols() throws {
        let table = try Fixtures.symbols()
        #expect(table.count >= 500)
        #expect(Set(table.all.map(\.symbol)).count == table.count)
        for (index, info) in table.all.enumerated() {
            #expect(Int(info.id) == index)
            #expect(table.id(of: info.symbol) == info.id)
            #expect(SymbolTable.isValidSymbol(info.symbol))
        }
        for name in ["AAPL", "MSFT", "GOOGL", "AMZN", "NVDA", "META", "TSLA", "JPM"] {
            #expect(table.id(of: name) != nil, "missing \(name)")
        }
        let aapl = table[try #require(table.id(of: "AAPL"))]
        #expect(aapl.priceExponent == -2)
        #expect(aapl.tickMantissa == 1)
        #expect(aapl.price > 50 && aapl.price < 1000)
        let eurusd = table[try #require(table.id(of: "EURUSD"))]
        #expect(eurusd.priceExponent == -4)
    }

    @Test func parsesAValidTableWithCRLFAndBlankLines() throws {
        let table = try SymbolTable(csv: "symbol,price,volatility,tick_size,lot_size\r\nAAA,10.5,0.3,0.05,100\r\n\r\nBB.A,1.2345,0.1,0.0001,1000\r\n")
        #expect(table.count == 2)
        #expect(table[0] == SymbolInfo(id: 0, symbol: "AAA", price: 10.5, volatility: 0.3, tickSize: 0.05, lotSize: 100, priceExponent: -2))
        #expect(table[1].priceExponent == -4)
        #expect(table[0].tickMantissa == 5)
        #expect(table.id(of: "BB.A") == 1)
        #expect(table.id(of: "ZZZ") == nil)
    }

    @Test func reportsErrorsWithLineNumbers() {
        #expect(csvError("") == .empty)
        #expect(csvError("\n\n") == .empty)
        #expect(csvError("sym,price\nAAA,1,0.1,0.01,100") == .badHeader(line: 1, found: "sym,price"))
        #expect(csvError(header + "AAA,1,0.1,0.01") == .wrongFieldCount(line: 2, expected: 5, found: 4))
        #expect(csvError(header + "AAA,1,0.1,0.01,100\naaa,1,0.1,0.01,100") == .invalidSymbol(line: 3, symbol: "aaa"))
        #expect(csvError(header + "TOOLONGSYM,1,0.1,0.01,100") == .invalidSymbol(line: 2, symbol: "TOOLONGSYM"))
        #expect(csvError(header + "AAA,abc,0.1,0.01,100") == .invalidNumber(line: 2, field: "price", value: "abc"))
        #expect(csvError(header + "AAA,-5,0.1,0.01,100") == .outOfRange(line: 2, field: "price", value: "-5"))
        #expect(csvError(header + "AAA,5,x,0.01,100") == .invalidNumber(line: 2, field: "volatility", value: "x"))
        #expect(csvError(header + "AAA,5,0.2,0,100") == .outOfRange(line: 2, field: "tick_size", value: "0"))
        #expect(csvError(header + "AAA,5,0.2,0.01,0") == .outOfRange(line: 2, field: "lot_size", value: "0"))
        #expect(csvError(header + "AAA,5,0.2,0.01,1.5") == .invalidNumber(line: 2, field: "lot_size", value: "1.5"))
        #expect(csvError(header + "AAA,5,0.2,0.01,99999999999") == .outOfRange(line: 2, field: "lot_size", value: "99999999999"))
        #expect(csvError(header + "AAA,0.001,0.2,0.01,100") == .outOfRange(line: 2, field: "price", value: "0.001"))
        #expect(
            csvError(header + "AAA,5,0.2,0.01,100\n\nBBB,5,0.2,0.01,100\nAAA,6,0.2,0.01,100")
                == .duplicateSymbol(line: 5, symbol: "AAA", firstLine: 2))
    }

    @Test func errorDescriptionsNameTheLine() {
        let error = csvError(header + "AAA,1,0.1,0.01")
        #expect(error?.line == 2)
        #expect(error?.description.hasPrefix("line 2:") == true)
    }

    @Test func unreadableIsOneSentence() {
        let missing = "/nonexistent-dir/nope.csv"
        let description = SymbolTableError.unreadable(path: missing, reason: "no such file or directory").description
        #expect(description == "cannot read /nonexistent-dir/nope.csv: no such file or directory")
        #expect(SymbolTableError.unreadable(path: missing, reason: "x").line == nil)
    }

    @Test func resolveExpandsWildcardAndDeduplicates() throws {
        let table = try SymbolTable(csv: header + "AAA,1,0.1,0.01,100\nBBB,2,0.1,0.01,100\nCCC,3,0.1,0.01,100")
        #expect(try table.resolve(["CCC", "AAA", "CCC"], requestID: 1) == [
            SymbolRef(symbol: "CCC", id: 2), SymbolRef(symbol: "AAA", id: 0),
        ])
        #expect(try table.resolve(["AAA", "*"], requestID: nil).map(\.id) == [0, 1, 2])
    }

    @Test func resolveRejectsUnknownSymbolsListingThem() throws {
        let table = try SymbolTable(csv: header + "AAA,1,0.1,0.01,100")
        #expect(throws: ControlError(code: .unknownSymbol, id: 9, message: "2 unknown symbols: XXX, YYY", symbols: ["XXX", "YYY"])) {
            try table.resolve(["XXX", "AAA", "YYY", "XXX"], requestID: 9)
        }
    }

    @Test func resolveComparesClientStringsAsBytes() throws {
        let table = try SymbolTable(csv: header + "AAA,1,0.1,0.01,100")
        // Not tickers: unknown without a lookup, de-duplicated by bytes (both "é" spellings kept).
        let names = ["aaa", "AAA ", "\u{E9}", "e\u{301}", "\u{E9}", "AAAAAAAAA"]
        #expect(throws: ControlError(
            code: .unknownSymbol, id: 1, message: "5 unknown symbols: aaa, AAA , \u{E9}, e\u{301}, AAAAAAAAA",
            symbols: ["aaa", "AAA ", "\u{E9}", "e\u{301}", "AAAAAAAAA"])) {
            try table.resolve(names + ["AAA"], requestID: 1)
        }
        // Only the one-byte "*" is the wildcard.
        #expect(throws: ControlError.self) { try table.resolve(["*\u{301}"], requestID: nil) }
    }
}
