import FanoutHub
import Testing
import TickerServer

/// `ticker serve --help` shows each configurable overload threshold with the
/// default `OverloadPolicy()` holds: the expectations are read from the
/// policy, so the help and the code cannot drift apart.
@Suite struct ServeHelpTests {
    /// Each option's text, its continuation lines joined.
    static func optionTexts(_ help: String) -> [String: String] {
        var texts: [String: String] = [:]
        var current: String?
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            let indent = line.count - trimmed.count
            if indent == 2, trimmed.hasPrefix("--") {
                let flag = String(trimmed.prefix { $0 != " " })
                current = flag
                texts[flag] = String(trimmed)
            } else if indent > 2, let flag = current {
                texts[flag, default: ""] += " " + trimmed
            } else {
                current = nil
            }
        }
        return texts
    }

    @Test func helpShowsEveryPolicyDefault() throws {
        let outcome = try CLI.run(["serve", "--help"], timeout: 20)
        #expect(outcome.status == 0)
        let texts = Self.optionTexts(outcome.stdout)
        let policy = OverloadPolicy()
        let expected: [(flag: String, value: String)] = [
            ("--high-water", "\(policy.backlog.highWaterMark)"),
            ("--max-symbols", "\(policy.backlog.maxSymbolsPerConnection)"),
            ("--max-connections", "\(policy.maxConnections)"),
            ("--rate-limit", "\(policy.maxMessagesPerSecond)"),
            ("--slow-consumer-ms", "\(policy.slowConsumerTimeout.milliseconds)"),
            ("--notsent-lowat", "\(policy.notSentLowWaterBytes)"),
            ("--max-pending-ticks", "\(policy.maxPendingTicksPerLoop)"),
            ("--max-lag-ms", "\(policy.maxLag.milliseconds)"),
            ("--max-per-address", "\(policy.maxConnectionsPerAddress)"),
            ("--accept-rate", "\(policy.acceptsPerSecond)"),
            ("--drain-ms", "\(policy.drainTimeout.milliseconds)"),
            ("--retention-ms", "\(HubSettings().retentionNanos / 1_000_000)"),
            ("--retention-ticks", "\(HubSettings().maxRetainedTicks)"),
        ]
        for (flag, value) in expected {
            let text = try #require(texts[flag], "\(flag) is not in serve --help")
            #expect(text.contains("(default \(value))") || text.contains("(default \(value);"),
                    "\(flag): expected default \(value) in: \(text)")
        }
    }

    /// The low-water mark `--high-water` sets is the policy's ratio.
    @Test func theLowWaterMarkIsAQuarterOfTheHighByDefault() {
        let backlog = BacklogPolicy()
        #expect(backlog.lowWaterMark == backlog.highWaterMark / 4)
    }
}
