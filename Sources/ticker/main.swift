import Foundation
import TickerServer

let usage = """
USAGE: ticker <command> [options]

COMMANDS:
  serve    Run the server with the simulated feed (ticker serve --help), or with
           --redis URL a gateway of a feed node
  feed     Run the feed node writing to Redis (ticker feed --help)
  tap      Print decoded ticks from a server (ticker tap --help)
  token    Mint a signed token for servers started with --auth-keys (ticker token --help)
  version  Print the version (also ticker --version)

Run 'ticker <command> --help' for a command's options.
"""

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ticker: \(message)\n".utf8))
    exit(2)
}

var args = Arguments(CommandLine.arguments.dropFirst())
let command = args.popPositional()
let wantsHelp = args.flag("--help") || args.flag("-h")
if args.flag("--version") || command == "version" {
    print("ticker \(BuildInfo.version) (protocol v\(BuildInfo.protocolVersion), \(BuildInfo.compiler))")
    exit(0)
}

switch command {
case nil:
    print(usage)
    exit(wantsHelp ? 0 : 2)
case "serve":
    if wantsHelp { print(ServeCommand.help); exit(0) }
    args.readEnvironment(ProcessInfo.processInfo.environment)
    do {
        try ServeCommand.run(try ServeCommand.parse(&args))
    } catch let error as ArgumentError {
        fail(error.message)
    } catch {
        fail("\(error)")
    }
case "feed":
    if wantsHelp { print(ServeCommand.feedHelp); exit(0) }
    args.readEnvironment(ProcessInfo.processInfo.environment)
    do {
        try ServeCommand.run(try ServeCommand.parse(&args, feedNode: true))
    } catch let error as ArgumentError {
        fail(error.message)
    } catch {
        fail("\(error)")
    }
case "tap":
    if wantsHelp { print(TapCommand.help); exit(0) }
    do {
        let options = try TapCommand.parse(&args)
        exit(try TapCommand.run(options))
    } catch let error as ArgumentError {
        fail(error.message)
    } catch {
        fail("\(error)")
    }
case "token":
    if wantsHelp { print(TokenCommand.help); exit(0) }
    do {
        print(try TokenCommand.run(try TokenCommand.parse(&args)))
    } catch let error as ArgumentError {
        fail(error.message)
    } catch {
        fail("\(error)")
    }
case "help":
    print(usage)
default:
    fail("unknown command '\(command!)'\n\n\(usage)")
}
