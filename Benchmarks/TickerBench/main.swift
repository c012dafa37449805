import BenchSupport
import Foundation

let usage = """
USAGE: swift run -c release TickerBench <preset> [--seconds S] [--clients N] [--loops N] [--out DIR]

Starts `ticker serve` (the release binary beside this one) as a separate
process, drives it from one epoll client process, and prints a table; every
figure also goes to DIR/<preset>.json (default reports/bench).

SCENARIOS (issue 13: small rounds, one WebSocket message per published tick,
closed loop, latency from each record's event time, exact loss check; the
server runs with its own defaults unless --loops/--delivery/--configs say):
  s1         1,000 clients x 10 of 100 symbols; a round = 100 ticks, each its
             own /v1/publish message, all in one write (10,000 deliveries)
  s2         1,000 clients x 1 symbol; a round = 10 one-tick messages
  s4         1 tick to 100 subscribers per round: latency p50/p99
  s3         10,000 and 15,000 upgraded idle connections: RSS per connection
  scenarios  s1, s2, s4, s3 in one run

OPEN-LOOP PRESETS (issue 24: a publisher sends 52 ticks every 1 ms through
/v1/publish over 520 symbols, the default feed's rate, whatever arrives;
latency from event time; copies owed vs accounted after a drain; the server
runs unpinned with its own defaults unless --pin / --loops / --configs say):
  m1         1,000 clients x 10 of 520 symbols (~1.0M deliveries/s)
  m2         5,000 clients x 2 of 520 symbols (~1.0M deliveries/s, little
             news per socket)
  m3         1,000 clients x 52 of 520 symbols (~5.2M deliveries/s, overload)
  market     m1, m2, m3 in one run
  h1         WebSocket upgrades per second in waves of 1,000 (each closed
             after its welcome), with and without --auth-keys, alternating
  A comma-separated list of scenarios and presets (m1,m2,m3,s1,s2,s4) runs
  them in one matrix.

PRESETS (large rounds: they amortize per-round costs, so they show the
fan-out ceiling rather than what a live stream of single updates costs):
  fanout     1,000 clients x 10 of 100 symbols, closed loop via /v1/publish,
             one tick per message and batched delivery
  broadcast  1,000 clients x 1 symbol, closed loop, both delivery modes
  single     one tick to 100 subscribers per round: latency
  steady     the simulated feed at its default rate, 1,000 clients x 10 of
             520 symbols, open loop: latency, sequence check
  wire       the compact wire (issue 22): default feed, 1,000 clients x 10
             of 520 and 100 on *, raw / delta / delta + 250 ms (alternating,
             --repeat N): bytes per delivered tick per group, messages/s,
             server CPU ns per delivered tick, latency, keyframe share
  wire-overload  the feed 10x faster (--interval-ms 0.1), 200 * clients on
             delta: the share of keyframes under loop-level folding
  idle       15,000 idle connections: server RSS per connection
  sweep      fanout (one tick per message) at 100 -> 15,000 clients;
             writes DIR/sweep.svg (throughput and p99 against clients)
  all        every preset above, in that order
  gateways   scale-out (issue 12): redis + feed node + 3 gateways, clients
             split over processes (--clients-per-gateway N, default 15,000);
             aggregate ticks/s, p50/p99 from event time, per-gateway CPU
             and RSS; `gateways --help` for its options
  hubwork    a fixed amount of in-process fan-out work (no sockets, no
             clock) for instruction counts under callgrind; --rounds N
             (default 2,000)
  faults     the fault and load suite (storm, overload, slow, sigterm,
             capacity): PASS/FAIL per criterion; `faults --help` for its
             options; fault-<scenario> runs one of them

OPTIONS:
  --seconds S   measured time per run (default 5)
  --clients N   override the preset's client count
  --loops N     server event loops (default 1: the frame targets are per loop)
  --round N     ticks published per closed-loop round (defaults: fanout 1,000
                per message / 10,000 batched; broadcast 200 / 2,000)
  --out DIR     where JSON and SVG go (default reports/bench)
  --server PATH the ticker binary to measure (default: the one beside this)

SCENARIO OPTIONS:
  --delivery M      message | batch (default: the server's, batch)
  --configs LIST    server setups run alternately, comma-separated:
                    "defaults" or LOOPS/DELIVERY ("1/message", "1/batch");
                    "all" = defaults,1/message,1/batch; "+OPTION" adds a
                    server option ("defaults+--io-uring=on")
  --repeat N        N repetitions (setups alternate within each); the table
                    shows the median run (default 1)
  --baseline PATH   also run every setup against another ticker binary (e.g.
                    a build of main), alternating with this one
  --pin / --no-pin  server on CPU 0 and generator on CPU 1, or nothing
                    pinned (default: pinned, unless every preset of the run
                    is open-loop: m1, m2, m3, market)
"""

var args = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    defer { args.removeSubrange(i...(i + 1)) }
    return args[i + 1]
}
if args.contains("--help") || args.contains("-h") || args.isEmpty {
    print(usage)
    exit(args.isEmpty ? 2 : 0)
}
let preset = args.removeFirst()
// The scale-out preset runs more processes than cores: nothing is pinned.
if preset == "gateways" { GatewayBench.main(arguments: args) }
if preset == "gateway-clients" { GatewayClientProcess.main(arguments: args) }
if preset == "hubwork" { HubWork.main(arguments: args) }
let scenarioList: [Scenario]? = {
    switch preset {
    case "scenarios": return [.s1, .s2, .s4, .s3]
    case "market": return [.m1, .m2, .m3]
    default:
        let names = preset.split(separator: ",").map { Scenario(rawValue: String($0)) }
        return names.allSatisfy { $0 != nil } ? names.map { $0! } : nil
    }
}()
let pinned: Bool = {
    if let i = args.firstIndex(of: "--pin") { args.remove(at: i); return true }
    if let i = args.firstIndex(of: "--no-pin") { args.remove(at: i); return false }
    // The wire presets run the server as an operator does: nothing pinned.
    if preset.hasPrefix("wire") { return false }
    return !(scenarioList?.allSatisfy(\.isOpenLoop) ?? false)
}()
if pinned || preset == "faults" || preset.hasPrefix("fault-") { Pinning.pinSelf() }
if preset == "faults" || preset.hasPrefix("fault-") { FaultSuite.main(preset: preset, arguments: args) }
var runner = try Runner()
runner.pinned = pinned && Pinning.taskset != nil
if let s = option("--seconds"), let v = Double(s), v > 0 { runner.seconds = v }
let loopsOverride = option("--loops").flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
if let v = loopsOverride { runner.serverLoops = v }
if let s = option("--out") { runner.outputDirectory = s }
if let s = option("--server") { runner.serverBinary = URL(fileURLWithPath: s) }
let deliveryOverride = option("--delivery")
let configsOption = option("--configs")
let repeats = max(1, option("--repeat").flatMap(Int.init) ?? 1)
let baseline = option("--baseline").map { URL(fileURLWithPath: $0) }
let clientOverride = option("--clients").flatMap(Int.init)
let roundOverride = option("--round").flatMap(Int.init)
guard args.isEmpty else {
    FileHandle.standardError.write(Data("TickerBench: unknown arguments \(args) (see --help)\n".utf8))
    exit(2)
}

@MainActor func run(_ preset: String) throws -> [RunResult] {
    switch preset {
    case "fanout":
        let n = clientOverride ?? 1_000
        return try ["message", "batch"].map {
            try runner.closedLoop(preset: "fanout", mode: $0, clients: n, symbols: 100, perClient: 10,
                                 roundTicks: roundOverride ?? ($0 == "batch" ? 10_000 : 1_000))
        }
    case "broadcast":
        let n = clientOverride ?? 1_000
        return try ["message", "batch"].map {
            try runner.closedLoop(preset: "broadcast", mode: $0, clients: n, symbols: 1, perClient: 1,
                                 roundTicks: roundOverride ?? ($0 == "batch" ? 2_000 : 200))
        }
    case "single":
        return [try runner.closedLoop(preset: "single", mode: "message", clients: clientOverride ?? 100, symbols: 1, perClient: 1, roundTicks: 1)]
    case "wire", "wire-overload":
        // The server's own loop count unless --loops says otherwise.
        return try runner.wirePreset(overload: preset == "wire-overload", repeats: repeats,
                                     setup: ServerSetup(loops: loopsOverride))
    case "steady":
        return [try runner.steady(clients: clientOverride ?? 1_000, perClient: 10)]
    case "idle":
        return [try runner.idle(clients: clientOverride ?? 15_000)]
    case "sweep":
        var results: [RunResult] = []
        for n in [100, 1_000, 5_000, 10_000, 15_000] {
            results.append(try runner.closedLoop(preset: "sweep", mode: "message", clients: n, symbols: 100, perClient: 10, roundTicks: 1_000))
        }
        let svg = SVGChart.dualAxis(
            title: "ticker fan-out: one tick per message, 10 of 100 symbols per client, 1 server loop",
            xLabel: "clients (log scale)",
            left: ("frames/s", results.map { .init(x: Double($0.clients), y: $0.framesPerSecond) }),
            right: ("p99 latency (ms)", results.map { .init(x: Double($0.clients), y: $0.latencyP99Ms ?? 0) }))
        try FileManager.default.createDirectory(atPath: runner.outputDirectory, withIntermediateDirectories: true)
        try svg.write(toFile: "\(runner.outputDirectory)/sweep.svg", atomically: true, encoding: .utf8)
        print("chart: \(runner.outputDirectory)/sweep.svg")
        return results
    default:
        throw BenchError("unknown preset '\(preset)' (see --help)")
    }
}

/// The server setups a scenario run alternates between.
@MainActor func scenarioSetups() throws -> [ServerSetup] {
    var setups: [ServerSetup]
    if let list = configsOption {
        let items = list == "all" ? ["defaults", "1/message", "1/batch"] : list.split(separator: ",").map(String.init)
        setups = try items.map { item in
            guard let setup = ServerSetup.parse(item) else { throw BenchError("bad --configs item '\(item)'") }
            return setup
        }
    } else {
        setups = [ServerSetup(loops: loopsOverride, delivery: deliveryOverride)]
    }
    if let baseline {
        var seen = Set<String>()
        setups = setups.flatMap { setup in
            var old = setup
            old.binary = baseline
            old.binaryLabel = "baseline"
            old.extra = []
            // Setups that differ only in their extra options share one baseline.
            return seen.insert(old.label).inserted ? [old, setup] : [setup]
        }
    }
    return setups
}

@MainActor func runScenarios(_ names: [Scenario]) throws -> Bool {
    let setups = try scenarioSetups()
    print(runner.pinned ? "pinned: server on CPU 0, generator on CPU 1" : "nothing pinned: server and generator placed by the scheduler")
    print("load average at start: \(ScenarioTable.loadAverage())")
    var runs: [RunResult] = []
    var failedRuns = 0
    for repetition in 1...repeats {
        for scenario in names {
            for setup in setups {
                let results: [RunResult]
                do {
                    results = try scenario.run(runner, setup: setup, clients: clientOverride)
                } catch {
                    // One failed run (a stalled round) is reported, not the end of the matrix.
                    print("  [\(repetition)/\(repeats)] \(scenario.rawValue) \(setup.label): FAILED: \(error)")
                    failedRuns += 1
                    continue
                }
                for var r in results {
                    r.loadAverage = ScenarioTable.loadAverage()
                    print("  [\(repetition)/\(repeats)] \(r.preset) \(r.mode) \(r.clients): " + (
                        scenario == .s3 ? String(format: "%.0f B/idle conn", r.bytesPerIdleConnection ?? 0)
                            : String(format: "%.0f ticks/s, p99 %.3f ms, srv CPU %.0f%% (%.0f ns/tick), gen CPU %.0f%%",
                                     r.ticksPerSecond, r.latencyP99Ms ?? 0, r.serverCPUPercent,
                                     r.serverCPUNanosPerTick ?? 0, r.generatorCPUPercent))
                        + (r.queuedP99Ms.map { String(format: ", queued p50 %.3f p99 %.3f ms", r.queuedP50Ms ?? 0, $0) } ?? "")
                        + (r.arrivedP99Ms.map { String(format: ", arrived p50 %.3f p99 %.3f ms", r.arrivedP50Ms ?? 0, $0) } ?? "")
                        + (r.lossClean ? "" : " LOSS: \(r.lossCheck)") + ", load \(r.loadAverage ?? "?")")
                    runs.append(r)
                }
            }
        }
    }
    var failed = failedRuns > 0
    let medians = ScenarioTable.medians(runs, repeats: repeats)
    print("")
    for scenario in names {
        let rows = medians.filter { $0.preset == scenario.rawValue }
        print(scenario.title)
        Report.printTable(rows)
        print("")
        failed = failed || rows.contains { !$0.lossClean }
    }
    let name = names.count == 1 ? names[0].rawValue : preset.contains(",") ? "matrix" : preset
    print("json: \(try Report.write(medians, preset: name, directory: runner.outputDirectory))")
    if repeats > 1 { print("json: \(try Report.write(runs, preset: name + "-runs", directory: runner.outputDirectory))") }
    print("load average at end: \(ScenarioTable.loadAverage())")
    return failed
}

do {
    if let names = scenarioList {
        exit(try runScenarios(names) ? 1 : 0)
    }
    let presets = preset == "all" ? ["fanout", "broadcast", "single", "steady", "idle", "sweep"] : [preset]
    var failed = false
    for p in presets {
        let results = try run(p)
        Report.printTable(results)
        print("json: \(try Report.write(results, preset: p, directory: runner.outputDirectory))\n")
        failed = failed || results.contains { !$0.lossClean }
    }
    exit(failed ? 1 : 0)
} catch {
    FileHandle.standardError.write(Data("TickerBench: \(error)\n".utf8))
    exit(1)
}
