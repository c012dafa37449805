import Foundation
import Testing
@testable import TickerServer

/// `--log-format`: the text line and the JSON object, byte for byte.
@Suite struct LogTests {
    let time = Date(timeIntervalSince1970: 1_765_000_000)

    @Test func textIsOneLineWithFieldsAsKeyValues() {
        let line = Log.render(level: .warning, time: time, message: "accept paused", fields: ["reason": "EMFILE"], format: .text)
        #expect(line == "2025-12-06T05:46:40Z warn accept paused reason=EMFILE\n")
    }

    @Test func jsonIsOneObjectPerLine() throws {
        let line = Log.render(level: .info, time: time, message: "say \"hi\"\n\tthen\u{1}go \\ é",
                              fields: ["peer": "203.0.113.7", "n": "3"], format: .json)
        #expect(line == #"{"time":"2025-12-06T05:46:40Z","level":"info","message":"say \"hi\"\n\tthen\u0001go \\ é","fields":{"peer":"203.0.113.7","n":"3"}}"# + "\n")
        #expect(line.filter { $0 == "\n" }.count == 1, "escaped newlines keep it one line")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "say \"hi\"\n\tthen\u{1}go \\ é")
        #expect((object["fields"] as? [String: String]) == ["peer": "203.0.113.7", "n": "3"])
        #expect(object["level"] as? String == "info")
    }

    @Test func jsonWithoutFieldsHasAnEmptyObject() {
        let line = Log.render(level: .error, time: time, message: "stopped", fields: [:], format: .json)
        #expect(line == #"{"time":"2025-12-06T05:46:40Z","level":"error","message":"stopped","fields":{}}"# + "\n")
    }
}
