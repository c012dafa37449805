import Foundation
import Testing
import MarketData

/// Scripts/decode_stream.py is a second, independent decoder written from
/// PROTOCOL.md: it must read every golden delta fixture exactly as Swift does.
@Suite struct PythonDeltaDecoderTests {
    static let script = Fixtures.root.deletingLastPathComponent().appendingPathComponent("Scripts/decode_stream.py").path

    /// Runs `decode_stream.py --messages FILE`; its standard output.
    static func python(messages path: String) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--messages", path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, data)
    }

    @Test(arguments: TickDeltaGoldenTests.cases)
    func pythonDecodesEveryGoldenFixtureAsSwiftDoes(_ name: String) throws {
        let (status, output) = try Self.python(messages: Fixtures.path("golden/delta/\(name).hex"))
        #expect(status == 0)
        let python = try JSONDecoder().decode([TickDeltaGoldenTests.Message].self, from: output)
        let (messages, _) = try TickDeltaGoldenTests.load(name)
        var decoder = TickDeltaDecoder()
        #expect(python.count == messages.count)
        for (bytes, theirs) in zip(messages, python) {
            let (sendTime, ticks) = try decoder.decodeMessage(bytes)
            #expect(theirs.sendTimeNs == sendTime)
            #expect(theirs.records.map(\.tick) == ticks, "\(name)")
        }
    }

    /// Both decoders refuse the same broken input with the same code.
    @Test func pythonReportsTheSameErrorCodes() throws {
        let header = "0102010000000000" + "15cde3c91b9ed417"
        let cases: [(String, String)] = [
            (header + "0081", "truncated"),                 // presence says flags follow; none do
            (header + "ffffffff1f01", "varint_overflow"),   // symbol id past u32
            (header + "0003", "reserved_bits"),
            (header + "0000d00f", "missing_keyframe"),
            (header + "0000d00f00", "missing_keyframe"),
            ("0102000000000000" + "15cde3c91b9ed417" + "00", "trailing_bytes"),
            ("0102000040000000" + "15cde3c91b9ed417", "bad_record_size"),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("delta-errors-\(getpid()).hex")
        defer { try? FileManager.default.removeItem(at: file) }
        for (hex, code) in cases {
            try (hex + "\n").write(to: file, atomically: true, encoding: .utf8)
            let (status, output) = try Self.python(messages: file.path)
            #expect(status == 1)
            let reply = try JSONSerialization.jsonObject(with: output) as? [String: Any]
            #expect(reply?["error"] as? String == code, "\(hex)")
            var decoder = TickDeltaDecoder()
            let bytes = try TickDeltaGoldenTests.hex(hex)
            do throws(TickDeltaError) {
                _ = try decoder.decodeMessage(bytes)
                Issue.record("Swift accepted \(hex)")
            } catch {
                #expect(error.code == code, "\(hex)")
            }
        }
    }
}
