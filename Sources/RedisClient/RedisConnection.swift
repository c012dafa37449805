import PosixIO
import RESP
import Retry

/// One Redis link on the project's event loop: non-blocking connect, pipelined commands
/// (replies are matched to requests in order), RESP3 pushes routed aside, and reconnect
/// with exponential back-off and jitter. Loop-confined: create it, call it and receive
/// its callbacks on the loop's thread only.
///
/// Nothing here blocks the loop: the connect is non-blocking (the host should be an IP
/// literal or a name in /etc/hosts, since `getaddrinfo` runs on the loop), writes that
/// the socket does not take wait for `EPOLLOUT`, and deadlines are checked by `tick()`
/// (one sweep, see `startTimer`) rather than by waiting.
///
/// A command sent while the link is not ready fails at once with `.notConnected`: the
/// caller decides whether to retry (a gateway re-reads from its last stream id; the feed
/// counts a lost batch), so nothing piles up unboundedly during an outage.
public final class RedisConnection: EventHandler {
    public typealias ReplyHandler = (Result<RESPValue, RedisError>) -> Void

    private struct Pending {
        var deadline: UInt64
        var handler: ReplyHandler
    }

    public let options: Options
    /// The link is ready (after every (re)connect's handshake).
    public var onReady: (() -> Void)?
    /// The link dropped (or an attempt failed); a reconnect is scheduled unless closed.
    public var onDisconnect: ((RedisError) -> Void)?
    /// RESP3 out-of-band pushes (invalidations, pub/sub messages).
    public var onPush: ((RESPValue) -> Void)?

    public private(set) var state: State = .disconnected
    /// Successful handshakes, ever (the first connect counts).
    public private(set) var readyCount = 0
    /// Connect attempts that failed or links that dropped, ever.
    public private(set) var failureCount = 0
    public private(set) var lastError: RedisError?
    /// When the next connect attempt is due (monotonic ns), while `.disconnected`.
    public private(set) var reconnectAtNanos: UInt64 = 0
    public var backoffAttempt: Int { backoff.attempt }

    private let loop: EventLoop
    private let now: () -> UInt64
    private var fd: Int32 = -1
    private var token = EventToken.none
    private var parser: RESPParser
    private var outbound: [UInt8] = []
    private var outboundIndex = 0
    private var pending: [Pending] = []
    private var pendingHead = 0
    private var connectDeadline: UInt64 = 0
    private var backoff: RetryDelays
    private var writableArmed = false
    /// Inside `pipeline` or a read: writes wait for one flush at the end.
    private var corked = 0
    private static let readChunk = 64 * 1024
    private var readBuffer: UnsafeMutableRawBufferPointer

    /// `now` is the monotonic clock (injected so back-off tests need no sleeping).
    public init(options: Options, loop: EventLoop, now: @escaping () -> UInt64 = Clock.monotonicNanos) {
        self.options = options
        self.loop = loop
        self.now = now
        parser = RESPParser(limits: options.limits)
        backoff = RetryDelays(options.backoff, seed: options.jitterSeed)
        readBuffer = .allocate(byteCount: Self.readChunk, alignment: 16)
    }

    deinit {
        if fd >= 0 {
            loop.unregister(fd: fd, token: token)
            Syscall.close(fd)
        }
        readBuffer.deallocate()
    }

    /// First connect attempt, now.
    public func start() {
        guard state == .disconnected else { return }
        connect()
    }

    /// Calls `tick()` every `intervalNanos` on the loop (deadlines and reconnects).
    public func startTimer(intervalNanos: UInt64 = 20_000_000) throws(SystemError) {
        try loop.addRepeatingTimer(intervalNanos: intervalNanos) { [weak self] in self?.tick() }
    }

    /// Closes the link for good; unanswered commands fail with `.closed`.
    public func close() {
        guard state != .closed else { return }
        tearDown()
        state = .closed
        failPending(.closed)
    }

    /// Unsent bytes (backpressure gauge).
    public var outboundByteCount: Int { outbound.count - outboundIndex }
    /// Commands written (or queued to write) and not yet answered.
    public var inFlightCount: Int { pending.count - pendingHead }

    /// Sends one command. `extraTimeoutNanos` extends the reply deadline (for `BLOCK`).
    /// The handler runs on the loop thread, once; synchronously when the command is
    /// refused (not ready, overloaded).
    public func send(_ arguments: [[UInt8]], extraTimeoutNanos: UInt64 = 0, _ handler: @escaping ReplyHandler) {
        guard state == .ready else {
            handler(.failure(state == .closed ? .closed : .notConnected))
            return
        }
        enqueue(arguments, extraTimeoutNanos: extraTimeoutNanos, handler)
    }

    public func send(_ arguments: String..., handler: @escaping ReplyHandler) {
        send(arguments.map { Array($0.utf8) }, handler)
    }

    /// Runs `body` (which sends commands) and writes everything it sent with one syscall.
    public func pipeline(_ body: () -> Void) {
        corked += 1
        body()
        corked -= 1
        if corked == 0 { flush() }
    }

    /// Deadlines and reconnects. Call periodically on the loop (see `startTimer`).
    public func tick() {
        let t = now()
        switch state {
        case .disconnected:
            if t >= reconnectAtNanos { connect() }
        case .connecting:
            if t >= connectDeadline { drop(.timeout) }
        case .handshaking, .ready:
            if pendingHead < pending.count, t >= pending[pendingHead].deadline { drop(.timeout) }
        case .closed:
            break
        }
    }

    // MARK: - Link

    private func connect() {
        state = .connecting
        connectDeadline = now() &+ options.connectTimeoutNanos
        do {
            fd = try Syscall.connect(host: options.url.host, port: options.url.port)
            token = try loop.register(fd: fd, events: EpollEvents.writable | EpollEvents.readHangUp, handler: self)
            writableArmed = true
        } catch {
            drop(.connectionLost("\(error)"))
        }
    }

    private func connected() {
        if let error = Syscall.socketError(fd) {
            drop(.connectionLost("\(error)"))
            return
        }
        Syscall.setNoDelay(fd)
        state = .handshaking
        writableArmed = false
        do {
            try loop.modify(fd: fd, token: token, events: EpollEvents.readable | EpollEvents.readHangUp)
        } catch {
            drop(.connectionLost("\(error)"))
            return
        }
        var steps: [[String]] = []
        let url = options.url
        if options.resp3 {
            var hello = ["HELLO", "3"]
            if let password = url.password { hello += ["AUTH", url.user ?? "default", password] }
            if let name = options.clientName { hello += ["SETNAME", name] }
            steps.append(hello)
        } else {
            if let password = url.password { steps.append(["AUTH"] + (url.user.map { [$0] } ?? []) + [password]) }
            if let name = options.clientName { steps.append(["CLIENT", "SETNAME", name]) }
        }
        if url.database != 0 { steps.append(["SELECT", String(url.database)]) }
        guard !steps.isEmpty else {
            becomeReady()
            return
        }
        var remaining = steps.count
        pipeline {
            for step in steps {
                enqueue(step.map { Array($0.utf8) }, extraTimeoutNanos: 0) { [weak self] result in
                    guard let self, self.state == .handshaking else { return }
                    switch result {
                    case .success:
                        remaining -= 1
                        if remaining == 0 { self.becomeReady() }
                    case .failure(.reply(let text)):
                        self.drop(.handshake(text))
                    case .failure:
                        break  // the link already dropped
                    }
                }
            }
        }
    }

    private func becomeReady() {
        state = .ready
        backoff.reset()
        readyCount += 1
        lastError = nil
        onReady?()
    }

    /// Drops the link (or a failed attempt), fails what was in flight and schedules the
    /// next attempt after the back-off delay.
    private func drop(_ error: RedisError) {
        guard state != .closed else { return }
        tearDown()
        state = .disconnected
        failureCount += 1
        lastError = error
        reconnectAtNanos = now() &+ backoff.nextDelayNanos()
        failPending(error)
        onDisconnect?(error)
    }

    private func tearDown() {
        if fd >= 0 {
            loop.unregister(fd: fd, token: token)
            Syscall.close(fd)
        }
        fd = -1
        token = .none
        writableArmed = false
        parser.reset()
        outbound.removeAll(keepingCapacity: outbound.capacity <= 256 * 1024)
        outboundIndex = 0
    }

    private func failPending(_ error: RedisError) {
        let failed = pending[pendingHead...]
        pending = []
        pendingHead = 0
        for request in failed { request.handler(.failure(error)) }
    }

    // MARK: - Writing

    private func enqueue(_ arguments: [[UInt8]], extraTimeoutNanos: UInt64, _ handler: @escaping ReplyHandler) {
        if outboundByteCount > options.maxOutboundBytes {
            handler(.failure(.overloaded))
            return
        }
        RESPEncoder.command(arguments, into: &outbound)
        pending.append(Pending(deadline: now() &+ options.replyTimeoutNanos &+ extraTimeoutNanos, handler: handler))
        if corked == 0 { flush() }
    }

    private func flush() {
        guard fd >= 0, state == .handshaking || state == .ready else { return }
        while outboundIndex < outbound.count {
            let result: IOResult
            do {
                result = try outbound.withUnsafeBytes { raw throws(SystemError) in
                    try Syscall.send(fd, UnsafeRawBufferPointer(rebasing: raw[outboundIndex...]))
                }
            } catch {
                drop(.connectionLost("\(error)"))
                return
            }
            switch result {
            case .processed(let n):
                outboundIndex += n
            case .wouldBlock:
                armWritable(true)
                return
            }
        }
        outbound.removeAll(keepingCapacity: outbound.capacity <= 256 * 1024)
        outboundIndex = 0
        armWritable(false)
    }

    private func armWritable(_ on: Bool) {
        guard on != writableArmed, fd >= 0 else { return }
        writableArmed = on
        let mask = EpollEvents.readable | EpollEvents.readHangUp | (on ? EpollEvents.writable : 0)
        do { try loop.modify(fd: fd, token: token, events: mask) } catch { drop(.connectionLost("\(error)")) }
    }

    // MARK: - Reading

    public func handleEvents(_ events: UInt32, loop: EventLoop) {
        if state == .connecting {
            if events & (EpollEvents.writable | EpollEvents.error | EpollEvents.hangUp) != 0 { connected() }
            return
        }
        if events & EpollEvents.writable != 0 { flush() }
        if events & (EpollEvents.readable | EpollEvents.error | EpollEvents.hangUp | EpollEvents.readHangUp) != 0 {
            readAvailable()
        }
    }

    private func readAvailable() {
        corked += 1
        defer {
            corked -= 1
            if corked == 0 { flush() }
        }
        // A few reads per wake-up at most, so one busy link cannot starve the loop.
        for _ in 0..<8 {
            guard fd >= 0 else { return }
            let result: IOResult
            do {
                result = try Syscall.read(fd, into: readBuffer)
            } catch {
                drop(.connectionLost("\(error)"))
                return
            }
            switch result {
            case .wouldBlock:
                return
            case .processed(0):
                drop(.connectionLost("closed by the server"))
                return
            case .processed(let n):
                parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                deliverReplies()
                if n < Self.readChunk { return }
            }
        }
    }

    private func deliverReplies() {
        while fd >= 0 {
            let value: RESPValue?
            do {
                value = try parser.next()
            } catch {
                drop(.protocolError(error))
                return
            }
            guard let value else { return }
            if case .push = value {
                onPush?(value)
                continue
            }
            guard pendingHead < pending.count else {
                drop(.connectionLost("a reply nobody asked for"))
                return
            }
            let request = pending[pendingHead]
            pendingHead += 1
            if pendingHead == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingHead = 0
            } else if pendingHead >= 1024 && pendingHead * 2 >= pending.count {
                pending.removeSubrange(0..<pendingHead)
                pendingHead = 0
            }
            if let message = value.errorMessage {
                request.handler(.failure(.reply(message)))
            } else {
                request.handler(.success(value))
            }
        }
    }
}
