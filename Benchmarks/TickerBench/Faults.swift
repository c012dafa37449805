import BenchSupport
import Dispatch
import Foundation
import MarketData
import PosixIO
import SplitMix
import Synchronization
import TickerServer
#if canImport(Glibc)
import Glibc
#endif

/// The fault and load suite (issue 8): storm, overload feed, slow readers,
/// SIGTERM, capacity. Each scenario starts its own server, prints its
/// figures with the load average beside every timing, then PASS/FAIL per
/// criterion; the process exits 1 when any criterion failed.
enum FaultSuite {
    static let scenarios = ["storm", "overload", "slow", "sigterm", "capacity"]

    static let usage = """
    USAGE: TickerBench faults [--short] [--only LIST] [options]
           TickerBench fault-<scenario> [--short] [options]

    Scenarios (full scale; --short in brackets):
      storm     10 healthy clients, then 15,000 connections at once [1,500]
                + 500 slowloris [100]; held 20 s [13 s], watched 30 s after [15 s]
      overload  --interval-ms 0.1: canary alone, then + 2,000 `*` clients [200],
                120 s per phase [20 s]
      slow      slow readers (1/3, 1/2, 1/10 of their stream) 40 s [25 s],
                then 100 stuck `*` readers (closed 4001, RSS bound)
      sigterm   10,000 clients [2,000] at the default feed; SIGTERM
      capacity  --max-connections 1000; 1,200 upgrades: 200 must get 503 + Retry-After

    OPTIONS:
      --short              CI scale (whole suite under 4 minutes)
      --only a,b           scenarios to run with `faults` (default: all)
      --clients N          override the scenario's main count (development runs)
      --seconds S          override the scenario's main duration (development runs)
      --rss-bound SIZE     overload: server RSS bound (default 1.5G)
      --stuck-rss-bound SIZE  slow: server RSS growth bound for 100 stuck readers
                           (default 50M = 100 x 512K)
      --drain-ms N         sigterm: drain deadline given to the server (default 2000)
      --rss-safety SIZE    any server past this RSS is killed and its scenario
                           fails, to protect the shared machine (default 4G)
      --out DIR            server logs and transcripts (default reports/faults)
    """

    @MainActor
    static func main(preset: String, arguments: [String]) -> Never {
        var options = FaultOptions()
        var selected = scenarios
        var args = arguments
        func value(_ name: String) -> String? {
            guard let i = args.firstIndex(of: name) else { return nil }
            guard i + 1 < args.count else { fatalUsage("\(name) needs a value") }
            defer { args.removeSubrange(i...(i + 1)) }
            return args[i + 1]
        }
        if let i = args.firstIndex(of: "--short") {
            options.short = true
            args.remove(at: i)
        }
        if args.contains("--help") || args.contains("-h") {
            Say.line(usage)
            exit(0)
        }
        if let s = value("--only") { selected = s.split(separator: ",").map(String.init) }
        func need<T>(_ parsed: T?, _ message: String) -> T {
            guard let parsed else { fatalUsage(message) }
            return parsed
        }
        if let s = value("--clients") { options.clients = need(Int(s), "--clients takes a number") }
        if let s = value("--seconds") { options.seconds = need(Double(s), "--seconds takes a number") }
        if let s = value("--rss-bound") { options.rssBound = need(FaultParsing.size(s), "--rss-bound: bad size") }
        if let s = value("--stuck-rss-bound") { options.stuckRSSBound = need(FaultParsing.size(s), "--stuck-rss-bound: bad size") }
        if let s = value("--rss-safety") { FaultServer.safetyCap.store(need(FaultParsing.size(s), "--rss-safety: bad size"), ordering: .relaxed) }
        if let s = value("--drain-ms") { options.drainMs = need(Int(s), "--drain-ms takes a number") }
        if let s = value("--out") { options.outDirectory = s }
        guard args.isEmpty else { fatalUsage("unknown arguments \(args)") }
        if preset != "faults" {
            selected = [String(preset.dropFirst("fault-".count))]
        }
        for name in selected where !scenarios.contains(name) { fatalUsage("unknown scenario '\(name)'") }

        Syscall.ignoreSIGPIPE()
        let limit = FileLimit.raiseToHard()
        FaultSupervisor.install()
        try? FileManager.default.createDirectory(atPath: options.outDirectory, withIntermediateDirectories: true)
        let universe: SymbolTable
        do { universe = try SymbolUniverse.load(path: nil) } catch {
            Say.line("TickerBench: cannot load the symbol universe: \(error)")
            exit(1)
        }
        Say.timed("fault suite: \(selected.joined(separator: ", ")) (\(options.short ? "short" : "full") scale); generator fd limit \(limit.soft)/\(limit.hard), generator pinned to CPU 1, server \(ProcessInfo.processInfo.environment["TICKER_FAULT_PIN"] == "1" ? "pinned to CPU 0" : "on any CPU")")
        let started = Date()
        var outcomes: [(String, Verdicts)] = []
        for name in selected {
            let verdicts = Verdicts(scenario: name)
            let context = FaultContext(options: options, universe: universe, verdicts: verdicts)
            FaultSupervisor.arm(scenario: name, seconds: context.budgetSeconds(name))
            do {
                switch name {
                case "storm": try StormScenario(context).run()
                case "overload": try OverloadScenario(context).run()
                case "slow": try SlowReaderScenario(context).run()
                case "sigterm": try SigtermScenario(context).run()
                case "capacity": try CapacityScenario(context).run()
                default: break
                }
            } catch {
                verdicts.check(false, "scenario ran to the end", "\(error)")
            }
            FaultSupervisor.disarm()
            FaultServer.stopCurrent()
            for kill in FaultServer.takeMemoryKills() { verdicts.check(false, "server RSS stays under the safety cap", kill) }
            verdicts.printSummary()
            outcomes.append((name, verdicts))
            Say.writeTranscript(to: "\(options.outDirectory)/\(name).txt")
        }
        let failed = outcomes.flatMap { name, v in v.failures.map { "\(name): \($0)" } }
        Say.line("")
        Say.timed(String(format: "fault suite done in %.0f s: %d scenario(s), %d criteria failed", Date().timeIntervalSince(started), outcomes.count, failed.count))
        for line in failed { Say.line("  FAIL  \(line)") }
        exit(failed.isEmpty ? 0 : 1)
    }

    static func fatalUsage(_ message: String) -> Never {
        FileHandle.standardError.write(Data("TickerBench: \(message) (see `TickerBench faults --help`)\n".utf8))
        exit(2)
    }
}

struct FaultOptions {
    var short = false
    var clients: Int?
    var seconds: Double?
    var rssBound = 1536 * 1024 * 1024
    var stuckRSSBound = 100 * 512 * 1024
    var drainMs = 2_000
    var outDirectory = "reports/faults"
}

/// What every scenario gets: options, the symbol universe, its verdicts.
struct FaultContext {
    let options: FaultOptions
    let universe: SymbolTable
    let verdicts: Verdicts
    var short: Bool { options.short }

    /// Full or short value, unless overridden on the command line.
    func count(full: Int, short: Int) -> Int { options.clients ?? (options.short ? short : full) }
    func seconds(full: Double, short: Double) -> Double { options.seconds ?? (options.short ? short : full) }

    /// Generous upper bound on a scenario's wall time, for the watchdog.
    func budgetSeconds(_ name: String) -> Double {
        let main = options.seconds ?? 0
        switch name {
        case "storm": return 240 + 2 * main
        case "overload": return (short ? 150 : 420) + 4 * main
        case "slow": return (short ? 165 : 215) + 2 * main
        case "sigterm": return 150
        default: return 120
        }
    }

    func serverLog(_ name: String) -> String { "\(options.outDirectory)/\(name)-server.log" }

    /// Deterministic symbol choice: `count` distinct ids of the universe.
    func randomSymbols(_ rng: inout SplitMix64, count: Int) -> [Int] {
        var chosen = Set<Int>()
        while chosen.count < min(count, universe.count) { chosen.insert(Int(rng.next() % UInt64(universe.count))) }
        return chosen.sorted()
    }

    func query(_ ids: [Int]) -> String {
        "symbols=" + ids.map { universe[UInt32($0)].symbol }.joined(separator: ",")
    }
}

/// PASS/FAIL lines of one scenario.
final class Verdicts {
    let scenario: String
    private(set) var results: [(ok: Bool, text: String)] = []

    init(scenario: String) { self.scenario = scenario }

    /// Prints `PASS|FAIL  criterion: figure` (with the load average).
    func check(_ ok: Bool, _ criterion: String, _ figure: String) {
        results.append((ok, "\(criterion): \(figure)"))
        Say.timed("  \(ok ? "PASS" : "FAIL")  \(criterion): \(figure)")
    }

    var failures: [String] { results.filter { !$0.ok }.map(\.text) }

    func printSummary() {
        let passed = results.filter(\.ok).count
        Say.timed("== \(scenario): \(passed) of \(results.count) criteria passed ==")
    }
}

/// Output: every line goes to stdout and to the scenario's transcript.
enum Say {
    private static let transcript = Mutex<String>("")

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
        transcript.withLock { $0 += text + "\n" }
    }

    /// A line carrying a timing or figure: the machine's load average beside it.
    static func timed(_ text: String) {
        line("\(text)  [load \(LoadAverage.now)]")
    }

    static func writeTranscript(to path: String) {
        let text = transcript.withLock { t in defer { t = "" }; return t }
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}

enum LoadAverage {
    static var now: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).flatMap(FaultParsing.loadAverage) ?? "?"
    }
}

/// RLIMIT_NOFILE: the storm needs > 15,500 descriptors in this process.
enum FileLimit {
    static func raiseToHard() -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return (0, 0) }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(resource, &limit)
            _ = getrlimit(resource, &limit)
        }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    static var current: (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Fails early, with the figures, when a scenario cannot fit.
    static func require(_ needed: Int, for what: String) throws {
        let soft = current.soft
        if UInt64(needed) + 64 > soft {
            throw BenchError("\(what) needs about \(needed) descriptors but this process may open \(soft)")
        }
    }
}

/// Ctrl-C, SIGTERM from a wrapper's timeout, or a scenario running far past
/// its budget: the current server is killed by PID and the process exits.
enum FaultSupervisor {
    private static let deadline = Atomic<UInt64>(0)
    private static let scenario = Mutex<String>("")
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    @MainActor
    static func install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("TickerBench: signal \(sig): killing the server and stopping\n".utf8))
                FaultServer.killCurrent()
                exit(130)
            }
            source.resume()
            sources.append(source)
        }
        let thread = Thread {
            while true {
                usleep(500_000)
                let d = deadline.load(ordering: .relaxed)
                if d != 0 && Clock.monotonicNanos() > d {
                    let name = scenario.withLock { $0 }
                    Say.timed("  FAIL  watchdog: scenario \(name) ran past its time budget; server killed")
                    FaultServer.killCurrent()
                    exit(3)
                }
            }
        }
        thread.name = "fault-watchdog"
        thread.start()
    }

    static func arm(scenario name: String, seconds: Double) {
        scenario.withLock { $0 = name }
        deadline.store(Clock.monotonicNanos() + UInt64(seconds * 1e9), ordering: .relaxed)
    }

    static func disarm() { deadline.store(0, ordering: .relaxed) }
}

/// Monotonic seconds since `start`.
struct Stopwatch {
    let start = Clock.monotonicNanos()
    var seconds: Double { Double(Clock.monotonicNanos() - start) / 1e9 }
    func seconds(at nanos: UInt64) -> Double { Double(Int64(bitPattern: nanos &- start)) / 1e9 }
}

/// Sleeps until `seconds` after `watch` started, calling `every` each `step`.
func waitUntil(_ watch: Stopwatch, _ seconds: Double, step: Double = 0.25, _ every: () -> Void = {}) {
    while watch.seconds < seconds {
        every()
        let left = seconds - watch.seconds
        if left > 0 { usleep(UInt32(min(step, left) * 1_000_000)) }
    }
    every()
}

func ms(_ nanos: Int64) -> String { String(format: "%.1f ms", Double(nanos) / 1e6) }
func ms(_ micros: Double?) -> String { micros.map { String(format: "%.1f ms", $0 / 1000) } ?? "n/a" }
func secs(_ s: Double) -> String { String(format: "%.2f s", s) }
func mib(_ bytes: Int) -> String { FaultParsing.bytes(bytes) }
