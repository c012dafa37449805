import MarketData
import PosixIO

/// A `/v1/stream` client for Swift concurrency that stays subscribed:
///
/// ```swift
/// let client = AsyncTickerClient(.init(urls: [url], symbols: ["AAPL"]))
/// for try await event in client.events { ... }
/// ```
///
/// It reconnects by itself (exponential back-off with jitter, failing over
/// between `urls`), resubscribes on every connection with `from` set to the
/// last sequence it saw per symbol, and reports what happened as events:
/// `.resumed` (the missed updates follow, no gap), `.reset(symbol:)` (a new
/// baseline follows), `.gap` (an undeclared jump). All clients of a process
/// share one I/O thread (an epoll loop); none has a thread of its own.
public final class AsyncTickerClient: Sendable {
    public struct Configuration: Sendable {
        /// Tried in order; each failed attempt moves to the next.
        public var urls: [TickerURL]
        public var symbols: [String]
        /// Resume points to start from (e.g. saved by a previous run).
        public var from: [String: UInt64]
        /// Throttles `symbols` to one record per symbol per interval (the
        /// newest, with the count of what it replaced); 0: every tick.
        /// 50...60,000 ms (`ControlRequest.intervalRange`).
        public var intervalMs = 0
        /// The encoding asked for (`?encoding=`, unless a URL names one).
        /// Delta by default: about a sixth of the bytes. Whatever the server
        /// sends is decoded (an older server sends raw); a delta message
        /// that cannot be decoded yields `.decodeError` and a reconnect that
        /// resumes where the last good record left off.
        public var encoding: TickEncoding = .delta
        /// false: the stream ends at the first loss.
        public var reconnect = true
        /// true: if the very first attempt fails, `events` ends with its
        /// error instead of retrying (a command-line tool pointed at the
        /// wrong address should say so); losses after that are retried.
        public var failFast = false
        public var backoff = Backoff()
        /// TCP connect plus the HTTP upgrade must finish within this.
        public var connectTimeoutNanos: UInt64 = 5_000_000_000
        /// A connection silent this long is dead and replaced; nil: two
        /// server heartbeats plus 5 s (35 s with the default 15 s heartbeat).
        public var idleTimeoutNanos: UInt64?
        /// The TLS layer for `wss://` URLs (`TLSSecurity()` from the
        /// `TickerClientTLS` product); nil: a `wss://` URL ends the stream
        /// with `TickerClientError.needsTLS`.
        public var security: (any TransportSecurity)?
        /// The token for servers started with `--auth-keys` (sent as
        /// `Authorization: Bearer`); nil: none.
        public var credential: Credential?

        public init(urls: [TickerURL], symbols: [String], from: [String: UInt64] = [:]) {
            self.urls = urls
            self.symbols = symbols
            self.from = from
        }
    }

    /// Where the client's token comes from.
    public enum Credential: Sendable {
        /// One fixed token: once the server refuses it (401, close 4401)
        /// or it expires, the stream ends with that error, since retrying
        /// the same token cannot help.
        case token(String)
        /// Asked for a token before every connection attempt and when the
        /// server says the current one is about to expire (the fresh one is
        /// sent with `{"op":"auth"}`, and the stream goes on with no gap).
        /// Runs on a task of its own, never on the I/O thread.
        case provider(@Sendable () async throws -> String)
    }

    /// Every event of this client, in order. Ends when `close()` is called
    /// or, without `reconnect`, when the connection ends (throwing
    /// `TickerClientError` when there never was one). Ending the iteration
    /// (breaking out, cancelling the task) closes the client.
    public let events: AsyncThrowingStream<TickerEvent, any Error>
    private let id: Int
    private let runtime: ClientRuntime

    public init(_ configuration: Configuration) {
        precondition(!configuration.urls.isEmpty, "AsyncTickerClient needs at least one URL")
        runtime = ClientRuntime.shared
        let id = runtime.makeID()
        self.id = id
        let (stream, continuation) = AsyncThrowingStream<TickerEvent, any Error>.makeStream(bufferingPolicy: .unbounded)
        events = stream
        let runtime = runtime
        continuation.onTermination = { _ in
            runtime.execute { state in state.sessions[id]?.close() }
        }
        runtime.execute { state in
            let session = ClientSession(id: id, configuration: configuration, state: state, continuation: continuation)
            state.sessions[id] = session
            session.start()
        }
    }

    /// Convenience: URLs as strings (`ws://host:port/v1/stream`, or `wss://` with `security`).
    public convenience init(urls: [String], symbols: [String], from: [String: UInt64] = [:]) throws {
        var parsed: [TickerURL] = []
        for text in urls {
            guard let url = TickerURL(string: text) else { throw TickerClientError.badURL(text) }
            parsed.append(url)
        }
        self.init(Configuration(urls: parsed, symbols: symbols, from: from))
    }

    /// Adds symbols (at `intervalMs`, 0: every tick; a symbol already held
    /// changes to it); kept across reconnects.
    public func subscribe(_ symbols: [String], intervalMs: Int = 0) {
        let id = id
        runtime.execute { state in state.sessions[id]?.subscribe(symbols, intervalMs: intervalMs) }
    }

    public func unsubscribe(_ symbols: [String]) {
        let id = id
        runtime.execute { state in state.sessions[id]?.unsubscribe(symbols) }
    }

    /// Closes the connection (close 1000) and ends `events`.
    public func close() {
        let id = id
        runtime.execute { state in state.sessions[id]?.close() }
    }

    /// Fault injection for tests and demos: drops the TCP connection at once
    /// (no close frame, as a network change would) and waits at least
    /// `nanos` before reconnecting; then resumes as after any loss.
    public func dropConnection(pausingFor nanos: UInt64) {
        let id = id
        runtime.execute { state in state.sessions[id]?.pause(for: nanos) }
    }
}
