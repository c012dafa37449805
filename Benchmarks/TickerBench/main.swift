import BenchSupport
import Foundation

let usage = """
USAGE: swift run -c release TickerBench <preset> [--seconds S] [--clients N] [--loops N] [--out DIR]

Starts `ticker serve` (the release binary beside this one) as a separate
process, drives it from one epoll client process, and prints a table; every
figure also goes to DIR/<preset>.json (default reports/bench).

PRESETS:
  fanout     1,000 clients x 10 of 100 symbols, closed loop via /v1/publish,
             one tick per message and batched delivery
  broadcast  1,000 clients x 1 symbol, closed loop, both delivery modes
  single     one tick to 100 subscribers per round: latency
  steady     the simulated feed at its default rate, 1,000 clients x 10 of
             520 symbols, open loop: latency, sequence check
  idle       15,000 idle connections: server RSS per connection
  sweep      fanout (one tick per message) at 100 -> 15,000 clients;
             writes DIR/sweep.svg (throughput and p99 against clients)
  all        every preset above, in that order
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
Pinning.pinSelf()
if preset == "faults" || preset.hasPrefix("fault-") { FaultSuite.main(preset: preset, arguments: args) }
var runner = try Runner()
if let s = option("--seconds"), let v = Double(s), v > 0 { runner.seconds = v }
if let s = option("--loops"), let v = Int(s), v > 0 { runner.serverLoops = v }
if let s = option("--out") { runner.outputDirectory = s }
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

do {
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
