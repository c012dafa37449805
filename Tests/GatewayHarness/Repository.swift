import Foundation

/// The repository's root: three levels above this file, as compiled. The
/// tests and `TickerBench` (run from `.build`) find `Scripts/` and the
/// default universe from here.
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs a shell command and returns its exit status and output. popen, not
/// `Process`: a daemon it starts (redis-server) would inherit Process's pipe,
/// and the read would never see its end.
public func shellOutput(_ command: String) -> (status: Int32, output: String) {
    guard let pipe = popen(command, "r") else { return (-1, "popen failed") }
    var text = ""
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), pipe) != nil {
        text += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return (pclose(pipe), text)
}
