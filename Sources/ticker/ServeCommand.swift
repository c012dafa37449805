import FanoutHub
import PosixIO
import Foundation
import ScaleOut
import RedisClient
import TickerServer

enum ServeCommand {
    /// Each threshold's default is read from `OverloadPolicy()` (and the hub's
    /// from `HubSettings()`), so the help cannot drift from the code.
    static var help: String {
        let policy = OverloadPolicy()
        let backlog = policy.backlog
        let hub = HubSettings()
        return """
    USAGE: ticker serve [options]

    Runs the ticker: the simulated price feed, the subscription hub and the
    WebSocket server. Open http://HOST:PORT/ for the dashboard; stream from
    ws://HOST:PORT/v1/stream (see docs/PROTOCOL.md).

    Every option can also be set in the environment as TICKER_<OPTION>
    (--max-connections N: TICKER_MAX_CONNECTIONS=N; a switch: TICKER_NO_FEED=1;
    a repeatable option: comma-separated). A flag wins over the environment,
    the environment over the default. Secrets need never be on the command
    line: TICKER_PUBLISH_TOKEN or --publish-token-file, TICKER_REDIS_PASSWORD
    or --redis-password-file.

    OPTIONS:
      --host ADDR              Address to listen on (default 127.0.0.1; 0.0.0.0 for all)
      --port N                 TCP port (default 8080; 0 picks a free one)
      --loops N                Event-loop threads (default: one per core)
      --symbols FILE           Symbol universe CSV (default: the built-in 500+ symbols,
                               Sources/TickerServer/Universe/symbols.csv)
      --seed N                 Feed PRNG seed; same seed, same ticks (default 42)
      --interval-ms X          Mean time between two ticks of one symbol, 0.1-60000 (default 10)
      --feed-period-ms X       How often the feed publishes a batch, 0.05-1000 (default 1)
      --no-feed                No simulated feed (ticks only from /v1/publish)
      --delivery MODE          batch: a connection's pending ticks in one message per flush
                               (default); message: one WebSocket message per tick
      --high-water BYTES       Per-connection queue size at which conflation starts; it ends
                               below a quarter of it (default \(backlog.highWaterMark))
      --max-symbols N          Symbols per connection (default \(backlog.maxSymbolsPerConnection))
      --max-connections N      Connections per process (default \(policy.maxConnections))
      --rate-limit N           Control messages per second per connection (default \(policy.maxMessagesPerSecond))
      --heartbeat-ms N         Ping interval (default 15000)
      --pong-timeout-ms N      Close (4002) when a ping is unanswered this long (default 10000)
      --slow-consumer-ms N     Close (4001) when the queue has not emptied for this long
                               (default \(policy.slowConsumerTimeout.milliseconds))
      --handshake-timeout-ms N Absolute deadline for the HTTP request head (default 10000)
      --close-timeout-ms N     Time a peer has to finish the close handshake (default 2000)
      --sndbuf BYTES           SO_SNDBUF of accepted sockets (default: kernel autotuning)
      --io-uring on|off        Flush each loop's connections in batches through io_uring (one
                               io_uring_enter per batch) instead of one sendmsg each; falls
                               back to sendmsg where the kernel refuses io_uring (default on)
      --io-uring-batch N       Connections flushed per io_uring_enter (default 64)
      --notsent-lowat BYTES    Bytes the kernel may hold unsent per connection, so slow
                               readers are seen and conflated (default \(policy.notSentLowWaterBytes); 0 = kernel's)
      --max-pending-ticks N    Ticks a loop's inbox holds before folding the oldest into
                               newest-per-symbol, flagged conflated (default \(policy.maxPendingTicksPerLoop))
      --retention-ms N         How long each loop keeps what it published, so a client that
                               reconnects with `from` gets the updates it missed instead of
                               a snapshot; 0 = off (default \(hub.retentionNanos / 1_000_000)). Memory per
                               retained tick: docs/ARCHITECTURE.md, "What was measured"
      --retention-ticks N      Cap on retained ticks per loop whatever the feed rate
                               (default \(hub.maxRetainedTicks))
      --max-lag-ms N           /healthz says degraded when a loop lags more (default \(policy.maxLag.milliseconds))
      --admin-port N           also serve /healthz and /metrics on port N (same host), from a
                               thread of their own: probes never wait behind a connect storm
                               (default: off; 0 picks a free port)
      --max-per-address N      Connections per peer address, 0 = no limit (default \(policy.maxConnectionsPerAddress);
                               behind a reverse proxy raise it, use 0, or name the proxy
                               in --trusted-proxies)
      --trusted-proxies LIST   Reverse proxies (addresses or CIDR ranges, comma-separated)
                               whose X-Forwarded-For / X-Real-IP name the client: the
                               per-address limit then counts the client, checked at the
                               upgrade, and logs name it (default: none)
      --accept-rate N          New connections accepted per second (default \(policy.acceptsPerSecond))
      --drain-ms N             Shutdown drain deadline after close 1001 (default \(policy.drainTimeout.milliseconds))
      --allow-origin ORIGIN    Accept browser upgrades only from this Origin (repeatable)
      --publish-token TOKEN    Enable /v1/publish with this bearer token (shows in ps:
                               prefer TICKER_PUBLISH_TOKEN or --publish-token-file)
      --publish-token-file F   Read the publish token from file F (first line)
      --auth-keys FILE         Require a signed token (JWT, HS256) for /v1/stream, /v1/publish
                               and /metrics on this port: keys one KID:BASE64SECRET per line,
                               several for rotation; re-read on SIGHUP (docs/PROTOCOL.md, Auth)
      --revoked FILE           With --auth-keys: subjects (one per line) whose connections
                               are closed with 4401 and refused; re-read on SIGHUP
      --echo                   Serve /echo, a 16 MiB-message echo endpoint for conformance tests
      --log-level LEVEL        debug, info, warn or error (default info)
      --log-format FORMAT      text (default) or json: one object per line with time,
                               level, message and fields
      --redis URL              Gateway mode: no local feed; ticks come from the feed node
                               writing to this Redis (redis://[user:pass@]host[:port][/db];
                               give an IP literal). See docs/DEPLOYMENT.md
      --redis-password-file F  The Redis password from file F (first line), instead of in
                               the URL (or set TICKER_REDIS_PASSWORD)
      --redis-shards N         Streams the symbols are spread over (default 4; the same on
                               the feed node and every gateway)
      --redis-maxlen N         Entries each stream retains (MAXLEN ~, default 10000)
      --version                Print the version and exit
      -h, --help               Show this help

    FIXED OVERLOAD THRESHOLDS (no flag; each with its reason in docs/ARCHITECTURE.md, Overload):
      conflation also when the oldest queued byte is \(backlog.maxBacklogAgeNanos / 1_000_000) ms old; backlog folded
      per round at most \(backlog.foldBytesPerRound) bytes; a loop \(policy.inboxLateness.milliseconds) ms late folds every batch; a
      round waits for light connections up to \(policy.maxRoundDeferral.milliseconds) ms; writes in \(policy.flushSlice.milliseconds) ms slices, light
      (<= \(policy.lightQueueBytes) bytes queued) first; rounds pace after \(policy.pacedWriteMinimum.milliseconds) ms of writes (x\(policy.pacingStretch),
      at most \(policy.pacedIntervalMaximum.milliseconds) ms apart); upgrades \(policy.upgradesPerWindow) per \(policy.upgradeWindow.milliseconds) ms per loop; accept burst
      \(policy.acceptBurst.milliseconds) ms of the rate; refused connections' head deadline \(policy.refusedHandshakeTimeout.milliseconds) ms; close 1008
      past \(policy.abusiveRefusalFactor)x the rate refused; feed batches at most \(policy.feedMaxBehind.milliseconds) ms or \(policy.feedMaxTicksPerBatch) ticks;
      \(policy.redisMaxPendingBatches) batches kept for Redis while its link is down; exit \(policy.drainExitGrace.milliseconds) ms after the drain.
    """
    }

    static let feedHelp = """
    USAGE: ticker feed --redis URL [options]

    Runs the feed node: the simulated feed (and /v1/publish when a publish token
    is given) writes every batch to Redis, where gateways (`ticker serve --redis
    URL`) read it. The feed node is the sequence authority and picks a new epoch
    at each start. It also serves clients itself, like `ticker serve`.

    Takes every `ticker serve` option (see ticker serve --help); --redis is required.
    """

    static func parse(_ args: inout Arguments, feedNode: Bool = false) throws(ArgumentError) -> ServerConfig {
        var config = ServerConfig()
        if let text = try args.value("--redis") {
            let url: RedisURL
            do { url = try RedisURL(parsing: text) } catch { throw ArgumentError(message: "--redis: \(error)") }
            config.redis = feedNode ? .feed(url) : .gateway(url)
        } else if feedNode {
            throw ArgumentError(message: "ticker feed needs --redis URL (e.g. redis://127.0.0.1:6379)")
        }
        if let password = try redisPassword(&args) {
            switch config.redis {
            case .feed(let url), .gateway(let url):
                if url.password != nil {
                    throw ArgumentError(message: "give the Redis password once: in the --redis URL, or in --redis-password-file / TICKER_REDIS_PASSWORD")
                }
            case nil: break
            }
            switch config.redis {
            case .feed(var url): url.password = password; config.redis = .feed(url)
            case .gateway(var url): url.password = password; config.redis = .gateway(url)
            case nil: throw ArgumentError(message: "a Redis password (--redis-password-file, TICKER_REDIS_PASSWORD) needs --redis")
            }
        }
        if let n: Int = try args.int("--redis-shards", in: 1...1024) { config.redisLayout.shardCount = n }
        if let n: Int = try args.int("--redis-maxlen", in: 100...100_000_000) { config.redisLayout.maxLength = n }
        if let host = try args.value("--host") { config.host = host }
        if let port: UInt16 = try args.int("--port", in: 0...65535) { config.port = port }
        if let loops: Int = try args.int("--loops", in: 1...64) { config.loops = loops }
        config.symbolsPath = try args.value("--symbols")
        if let seed: UInt64 = try args.int("--seed", in: 0...UInt64.max) { config.seed = seed }
        if let x = try args.double("--interval-ms", in: 0.1...60_000) { config.meanIntervalMs = x }
        if let x = try args.double("--feed-period-ms", in: 0.05...1_000) { config.feedPeriodMs = x }
        if try args.setting("--no-feed") { config.simulatedFeed = false }
        if let mode: DeliveryModeName = try args.choice("--delivery") { config.hub.delivery = mode.mode }
        if let n: Int = try args.int("--high-water", in: 4096...(1 << 30)) {
            config.overload.backlog.highWaterMark = n
            config.overload.backlog.lowWaterMark = n / 4
        }
        if let n: Int = try args.int("--max-symbols", in: 1...1_000_000) { config.overload.backlog.maxSymbolsPerConnection = n }
        if let n: Int = try args.int("--max-connections", in: 1...1_000_000) { config.overload.maxConnections = n }
        if let n: Int = try args.int("--rate-limit", in: 1...1_000_000) { config.overload.maxMessagesPerSecond = n }
        if let n: Int = try args.int("--heartbeat-ms", in: 100...3_600_000) { config.heartbeatIntervalMs = n }
        if let n: Int = try args.int("--pong-timeout-ms", in: 100...3_600_000) { config.pongTimeoutMs = n }
        if let n: Int = try args.int("--slow-consumer-ms", in: 100...3_600_000) { config.overload.slowConsumerTimeout = .milliseconds(n) }
        if let n: Int = try args.int("--handshake-timeout-ms", in: 100...3_600_000) { config.handshakeTimeoutMs = n }
        if let n: Int = try args.int("--drain-ms", in: 0...600_000) { config.overload.drainTimeout = .milliseconds(n) }
        if let n: Int = try args.int("--close-timeout-ms", in: 100...600_000) { config.closeTimeoutMs = n }
        if let n: Int = try args.int("--sndbuf", in: 4096...(64 << 20)) { config.socketSendBufferBytes = n }
        if let mode: Switch = try args.choice("--io-uring") { config.ioUring = mode == .on }
        if let n: Int = try args.int("--io-uring-batch", in: 1...4096) { config.ioUringBatch = n }
        if let n: Int = try args.int("--notsent-lowat", in: 0...(64 << 20)) { config.overload.notSentLowWaterBytes = n }
        if let n: Int = try args.int("--max-pending-ticks", in: 64...(1 << 24)) { config.overload.maxPendingTicksPerLoop = n }
        if let n: Int = try args.int("--retention-ms", in: 0...3_600_000) { config.hub.retentionNanos = UInt64(n) * 1_000_000 }
        if let n: Int = try args.int("--retention-ticks", in: 1...100_000_000) { config.hub.maxRetainedTicks = n }
        if let n: Int = try args.int("--max-lag-ms", in: 1...3_600_000) { config.overload.maxLag = .milliseconds(n) }
        if let port: UInt16 = try args.int("--admin-port", in: 0...65535) { config.adminPort = port }
        if let n: Int = try args.int("--max-per-address", in: 0...1_000_000) { config.overload.maxConnectionsPerAddress = n }
        if let n: Int = try args.int("--accept-rate", in: 1...10_000_000) { config.overload.acceptsPerSecond = n }
        let proxies = try args.values("--trusted-proxies").flatMap { $0.split(separator: ",").map(String.init) }
        do { config.trustedProxies = try ProxyTrust(parsing: proxies) } catch {
            throw ArgumentError(message: "--trusted-proxies: \(error)")
        }
        let origins = try args.values("--allow-origin")
        if !origins.isEmpty { config.allowedOrigins = Set(origins) }
        config.publishToken = try publishToken(&args)
        config.authKeysPath = try args.value("--auth-keys")
        config.revokedPath = try args.value("--revoked")
        if config.revokedPath != nil && config.authKeysPath == nil {
            throw ArgumentError(message: "--revoked needs --auth-keys (without it there are no subjects to revoke)")
        }
        if try args.setting("--echo") { config.enableEcho = true }
        if let format: Log.Format = try args.choice("--log-format") { Log.format = format }
        if let level = try args.value("--log-level") {
            let levels: [String: Log.Level] = ["debug": .debug, "info": .info, "warn": .warning, "error": .error]
            guard let parsed = levels[level] else {
                throw ArgumentError(message: "--log-level takes debug, info, warn or error, not '\(level)'")
            }
            Log.minimum = parsed
        }
        try args.finish()
        let unknown = args.unknownVariables(alsoKnown: knownVariables)
        if !unknown.isEmpty {
            Log.warning("ignoring environment variables that name no option: \(unknown.joined(separator: ", "))")
        }
        if case .gateway = config.redis {
            if config.publishToken != nil {
                throw ArgumentError(message: "a gateway (serve --redis) takes no --publish-token: publish to the feed node")
            }
            config.simulatedFeed = false
        }
        return config
    }

    /// `TICKER_*` variables read other than as an option's: the secrets,
    /// and those of the project's benchmarks and tests that servers inherit.
    static let knownVariables: Set<String> = [
        "TICKER_REDIS_PASSWORD", "TICKER_BENCH_PIN", "TICKER_BENCH_WRAP", "TICKER_FAULT_PIN", "TICKER_GATEWAY_SECONDS",
        "TICKER_BIN",
    ]

    /// The publish token: `--publish-token` or `--publish-token-file`, each
    /// also as its `TICKER_` variable. A flag wins over a variable; two of the
    /// same rank are an error; an empty token is refused (it would match
    /// `?token=`).
    static func publishToken(_ args: inout Arguments) throws(ArgumentError) -> String? {
        let direct = try args.sourcedValue("--publish-token")
        let file = try args.sourcedValue("--publish-token-file")
        var useFile = file != nil
        if let direct, let file {
            guard direct.fromEnvironment != file.fromEnvironment else {
                throw ArgumentError(message: "give the publish token once: --publish-token or --publish-token-file (or their TICKER_ variables)")
            }
            useFile = direct.fromEnvironment
        }
        let token = try useFile ? readSecret(option: "--publish-token-file", path: file!.value) : direct?.value
        if let token, token.isEmpty {
            throw ArgumentError(message: "the publish token is empty (--publish-token or TICKER_PUBLISH_TOKEN)")
        }
        return token
    }

    /// The Redis password: `--redis-password-file` (or its variable) or
    /// `TICKER_REDIS_PASSWORD`; the file given as a flag wins over the variable.
    static func redisPassword(_ args: inout Arguments) throws(ArgumentError) -> String? {
        let file = try args.sourcedValue("--redis-password-file")
        let variable = args.variable("TICKER_REDIS_PASSWORD").flatMap { $0.isEmpty ? nil : $0 }
        if let file, variable != nil, file.fromEnvironment {
            throw ArgumentError(message: "give the Redis password once: TICKER_REDIS_PASSWORD or TICKER_REDIS_PASSWORD_FILE")
        }
        if let file { return try readSecret(option: "--redis-password-file", path: file.value) }
        return variable
    }

    /// A secret file's first line, trimmed; never logged.
    static func readSecret(option: String, path: String) throws(ArgumentError) -> String {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ArgumentError(message: "\(option): cannot read '\(path)' (\(error.localizedDescription))")
        }
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let value = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty { throw ArgumentError(message: "\(option): '\(path)' is empty") }
        return value
    }

    static func run(_ given: ServerConfig) throws {
        // A server's descriptors are its connections: use the hard limit.
        Syscall.raiseOpenFileLimit()
        var resolved = given
        if case .gateway(let url) = given.redis {
            // The feed's epoch, so a client resumes on any gateway of the same feed.
            let epoch = try TickerServer.feedEpoch(url: url, layout: given.redisLayout, timeoutMs: 30_000)
            resolved.epoch = epoch
            Log.info("gateway of the feed at \(url.host):\(url.port), epoch \(epoch)")
        }
        let config = resolved
        let server = try TickerServer(config: config)
        // Before accepting anything: once clients arrive the process may run
        // out of descriptors, and the signal source needs one of its own.
        SignalWatcher.onTerminate {
            Log.info("shutting down: close 1001 to every client, drain \(config.overload.drainTimeout.milliseconds) ms",
                     ["open_connections": "\(server.openConnections)"])
            // The drain deadline is the process's, not the loops': whatever a
            // loop is doing, the process exits 0 shortly after it passes (the
            // loops close leftovers first).
            let policy = config.overload
            let deadline = Clock.monotonicNanos() + policy.drainTimeout.rawValue + policy.drainExitGrace.rawValue
            let watchdog = Thread {
                Clock.sleep(untilMonotonic: deadline)
                Log.warning("drain deadline passed with \(server.openConnections) connection(s) open; exiting")
                // No exit handlers while loop threads may still be running.
                Syscall.exitImmediately(0)
            }
            watchdog.name = "ticker-drain-deadline"
            watchdog.start()
            server.shutdown()
        }
        // SIGHUP re-reads the auth keys and revoked subjects (a no-op without auth).
        if config.authKeysPath != nil {
            SignalWatcher.onHangUp { server.reloadAuth() }
        }
        try server.start()
        Log.info("ticker listening on http://\(config.host):\(server.port)/ (stream: ws://\(config.host):\(server.port)/v1/stream) with \(server.symbols.count) symbols, \(config.loops) loop(s), seed \(config.seed)",
                 ["version": BuildInfo.version])
        let uringLoops = server.ioUringLoops
        if !config.ioUring {
            Log.info("flushes: one sendmsg per connection (--io-uring off)")
        } else if uringLoops == config.loops {
            Log.info("flushes: batched through io_uring, up to \(config.ioUringBatch) connections per io_uring_enter")
        } else {
            // ENOSYS (old kernel), EPERM (kernel.io_uring_disabled, a container's seccomp profile).
            let why = SendBatch.probe().map { "\($0)" } ?? "ring setup failed on some loops"
            Log.warning("flushes: io_uring on \(uringLoops) of \(config.loops) loop(s), one sendmsg per connection on the rest (\(why))")
        }
        if let adminPort = server.adminPort {
            Log.info("admin (/healthz, /metrics) on http://\(config.host):\(adminPort)/")
        }
        server.waitUntilStopped()
        Log.info("stopped")
    }
}

/// Command-line names of the delivery modes.
/// An option that is either on or off ("--io-uring off").
enum Switch: String, CaseIterable {
    case on, off
}

enum DeliveryModeName: String, CaseIterable {
    case batch, message
    var mode: DeliveryMode { self == .batch ? .batched : .perTick }
}
