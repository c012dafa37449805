import CTickerShim
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Whatever owns a registered fd. Called on the loop's thread only.
public protocol EventHandler: AnyObject {
    /// `events` is the epoll mask (see `EpollEvents`).
    func handleEvents(_ events: UInt32, loop: EventLoop)
}

public enum EpollEvents {
    public static let readable = TICKER_EPOLLIN
    public static let writable = TICKER_EPOLLOUT
    public static let error = TICKER_EPOLLERR
    public static let hangUp = TICKER_EPOLLHUP
    public static let readHangUp = TICKER_EPOLLRDHUP
    /// Edge-triggered: reported once per arrival, so a handler must read
    /// until a short read or EAGAIN.
    public static let edgeTriggered = TICKER_EPOLLET
}

/// Identifies one registration. The generation makes a stale event for a
/// closed fd (whose number the kernel may already have handed out again)
/// impossible to deliver to the new owner.
public struct EventToken: Hashable, Sendable {
    let slot: UInt32
    let generation: UInt32

    /// A token that matches no registration (before `register` returns).
    public static let none = EventToken(slot: .max, generation: .max)

    var packed: UInt64 { UInt64(generation) << 32 | UInt64(slot) }
    init(slot: UInt32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }
    init(packed: UInt64) {
        slot = UInt32(truncatingIfNeeded: packed)
        generation = UInt32(truncatingIfNeeded: packed >> 32)
    }
}

/// The thread-safe face of a loop: the only way in from another thread is a
/// queue plus an eventfd wake-up.
public final class EventLoopWaker: Sendable {
    let fd: Int32
    private let jobs = Mutex<[@Sendable (EventLoop) -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)

    init(fd: Int32) { self.fd = fd }

    /// Wakes the loop; it then runs its `onWake` hook (e.g. to drain an inbox).
    public func wake() { _ = ticker_eventfd_signal(fd) }

    /// Runs `job` on the loop's thread, soon.
    public func execute(_ job: @escaping @Sendable (EventLoop) -> Void) {
        jobs.withLock { $0.append(job) }
        wake()
    }

    /// Asks the loop to return from `run()` after the current iteration.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        wake()
    }

    func takeJobs() -> [@Sendable (EventLoop) -> Void] {
        jobs.withLock { jobs in
            defer { jobs.removeAll(keepingCapacity: true) }
            return jobs
        }
    }

    var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
}

/// One epoll instance driven by one thread for its whole life. Every fd
/// registered here belongs to this loop until it is unregistered; nothing
/// here is `Sendable` except `waker`.
public final class EventLoop {
    public let waker: EventLoopWaker
    /// Called on the loop thread after every eventfd wake-up, before jobs
    /// run, and when a deadline set with `wake(at:)` passes.
    public var onWake: (() -> Void)?
    /// The earliest deadline asked for with `wake(at:)`; nil: none.
    private var wakeDeadline: Instant?

    /// Calls `onWake` once `instant` has passed (at millisecond resolution,
    /// never early), without a timer descriptor: the loop's `epoll_wait`
    /// times out then. Loop thread only; an earlier pending deadline wins.
    public func wake(at instant: Instant) {
        if let current = wakeDeadline, current <= instant { return }
        wakeDeadline = instant
    }
    /// Called once at the end of an epoll iteration in which a handler
    /// called `requestAfterEvents()`: work that gathers what several
    /// handlers produced in one iteration (one fan-out round for every
    /// `/v1/publish` read of it) without the loop waking itself through its
    /// own eventfd, which costs a write, an epoll round trip and a read.
    public var afterEvents: (() -> Void)?
    private var afterEventsRequested = false

    /// See `afterEvents`. Loop thread only.
    public func requestAfterEvents() { afterEventsRequested = true }

    private let epfd: Int32
    /// A second epoll set, itself registered in `epfd`, for the fds that must
    /// not wait behind fan-out work: listeners and connections still in their
    /// HTTP phase (/healthz, /metrics, handshakes). It is polled without
    /// blocking at the start of every iteration, so such an fd waits at most
    /// one iteration, however many streaming sockets are ready.
    private let priorityFD: Int32
    private let priorityEvents: UnsafeMutablePointer<ticker_epoll_event>
    private var handlers: [(any EventHandler)?] = []
    private var generations: [UInt32] = []
    /// Per slot: registered in the priority set rather than the main one.
    private var inPrioritySet: [Bool] = []
    private var freeSlots: [UInt32] = []
    private var timers: [Int32: Timer] = [:]
    private var running = false
    private let events: UnsafeMutablePointer<ticker_epoll_event>
    private static let maxEvents: Int32 = 512
    /// Slot of the wake-up eventfd; never handed out to handlers.
    private static let wakeToken: UInt64 = UInt64.max
    /// Marks the priority set's own readiness in the main set.
    private static let priorityToken: UInt64 = UInt64.max - 1 - UInt64(Int32.max) - 1
    private static let maxPriorityEvents: Int32 = 64

    private final class Timer {
        let fd: Int32
        let body: () -> Void
        init(fd: Int32, body: @escaping () -> Void) {
            self.fd = fd
            self.body = body
        }
    }

    public init() throws(SystemError) {
        epfd = ticker_epoll_create()
        if epfd < 0 { throw SystemError.last("epoll_create1") }
        let wfd = ticker_eventfd()
        if wfd < 0 {
            let err = SystemError.last("eventfd")
            Syscall.close(epfd)
            throw err
        }
        waker = EventLoopWaker(fd: wfd)
        let pfd = ticker_epoll_create()
        if pfd < 0 {
            let err = SystemError.last("epoll_create1")
            Syscall.close(wfd)
            Syscall.close(epfd)
            throw err
        }
        priorityFD = pfd
        events = .allocate(capacity: Int(Self.maxEvents))
        priorityEvents = .allocate(capacity: Int(Self.maxPriorityEvents))
        if ticker_epoll_add(epfd, wfd, EpollEvents.readable, Self.wakeToken) < 0
            || ticker_epoll_add(epfd, pfd, EpollEvents.readable, Self.priorityToken) < 0 {
            let err = SystemError.last("epoll_ctl")
            Syscall.close(wfd)
            Syscall.close(pfd)
            Syscall.close(epfd)
            events.deallocate()
            priorityEvents.deallocate()
            throw err
        }
    }

    deinit {
        for timer in timers.values { Syscall.close(timer.fd) }
        Syscall.close(waker.fd)
        Syscall.close(priorityFD)
        Syscall.close(epfd)
        events.deallocate()
        priorityEvents.deallocate()
    }

    /// Number of registered handlers (connections, listeners).
    public var registrationCount: Int { handlers.count - freeSlots.count }

    /// Reserves room for `count` registrations, so the per-slot tables never
    /// grow by copying (memory not yet used is not touched, so not resident).
    public func reserveSlots(_ count: Int) {
        handlers.reserveCapacity(count)
        generations.reserveCapacity(count)
        inPrioritySet.reserveCapacity(count)
        freeSlots.reserveCapacity(count)
    }

    /// Registers `fd`; with `priority` it goes to the set polled ahead of
    /// everything else in each iteration (see `priorityFD`).
    public func register(
        fd: Int32, events mask: UInt32, handler: any EventHandler, priority: Bool = false
    ) throws(SystemError) -> EventToken {
        let slot: UInt32
        if let reused = freeSlots.popLast() {
            slot = reused
            handlers[Int(slot)] = handler
            inPrioritySet[Int(slot)] = priority
        } else {
            slot = UInt32(handlers.count)
            handlers.append(handler)
            generations.append(0)
            inPrioritySet.append(priority)
        }
        let token = EventToken(slot: slot, generation: generations[Int(slot)])
        if ticker_epoll_add(priority ? priorityFD : epfd, fd, mask, token.packed) < 0 {
            let err = SystemError.last("epoll_ctl(ADD)")
            release(slot)
            throw err
        }
        return token
    }

    public func modify(fd: Int32, token: EventToken, events mask: UInt32) throws(SystemError) {
        if ticker_epoll_mod(set(of: token), fd, mask, token.packed) < 0 {
            throw SystemError.last("epoll_ctl(MOD)")
        }
    }

    /// Moves a registered fd into or out of the priority set (e.g. a
    /// connection leaving its HTTP phase for streaming).
    public func setPriority(fd: Int32, token: EventToken, events mask: UInt32, priority: Bool) throws(SystemError) {
        let slot = Int(token.slot)
        guard slot < generations.count, generations[slot] == token.generation,
              inPrioritySet[slot] != priority else { return }
        _ = ticker_epoll_del(set(of: token), fd)
        inPrioritySet[slot] = priority
        if ticker_epoll_add(set(of: token), fd, mask, token.packed) < 0 {
            throw SystemError.last("epoll_ctl(ADD)")
        }
    }

    /// Removes the fd from epoll and retires the token; call before closing the fd.
    public func unregister(fd: Int32, token: EventToken) {
        _ = ticker_epoll_del(set(of: token), fd)
        guard Int(token.slot) < generations.count, generations[Int(token.slot)] == token.generation else { return }
        release(token.slot)
    }

    private func set(of token: EventToken) -> Int32 {
        let slot = Int(token.slot)
        return slot < inPrioritySet.count && inPrioritySet[slot] ? priorityFD : epfd
    }

    private func release(_ slot: UInt32) {
        handlers[Int(slot)] = nil
        generations[Int(slot)] &+= 1
        inPrioritySet[Int(slot)] = false
        freeSlots.append(slot)
    }

    /// Calls `body` on this loop every `interval` (a timerfd). Timeouts are
    /// checked by one sweep per interval rather than a timer per socket.
    public func addRepeatingTimer(every interval: Nanoseconds, _ body: @escaping () -> Void) throws(SystemError) {
        try addRepeatingTimer(intervalNanos: interval.rawValue, body)
    }

    /// `addRepeatingTimer(every:)` with the interval as raw nanoseconds.
    public func addRepeatingTimer(intervalNanos: UInt64, _ body: @escaping () -> Void) throws(SystemError) {
        _ = try addRemovableTimer(intervalNanos: intervalNanos, body)
    }

    /// A repeating timer that can end before the loop does: returns its
    /// descriptor, for `removeTimer`.
    public func addRemovableTimer(intervalNanos: UInt64, _ body: @escaping () -> Void) throws(SystemError) -> Int32 {
        let fd = ticker_timerfd(intervalNanos)
        if fd < 0 { throw SystemError.last("timerfd_create") }
        if ticker_epoll_add(epfd, fd, EpollEvents.readable, UInt64.max - 1 - UInt64(fd)) < 0 {
            let err = SystemError.last("epoll_ctl(ADD)")
            Syscall.close(fd)
            throw err
        }
        timers[fd] = Timer(fd: fd, body: body)
        return fd
    }

    /// Stops and closes a timer from `addRepeatingTimer(intervalNanos:)`;
    /// safe from inside its own body (the body is not called again).
    public func removeTimer(_ fd: Int32) {
        guard timers.removeValue(forKey: fd) != nil else { return }
        _ = ticker_epoll_del(epfd, fd)
        Syscall.close(fd)
    }

    /// Runs until `waker.stop()` is called (from any thread).
    public func run() {
        running = true
        while running && !waker.isStopRequested {
            let n = ticker_epoll_wait(epfd, events, Self.maxEvents, waitTimeoutMs())
            if let deadline = wakeDeadline, Clock.now() >= deadline {
                wakeDeadline = nil
                onWake?()
            }
            if n < 0 { continue }
            // The priority set first, whatever order the main set reported in.
            pollPrioritySet()
            for i in 0..<Int(n) {
                let data = events[i].data
                let mask = events[i].events
                if data == Self.wakeToken {
                    _ = ticker_eventfd_drain(waker.fd)
                    onWake?()
                    for job in waker.takeJobs() { job(self) }
                    continue
                }
                if data == Self.priorityToken { continue }
                if data >= UInt64.max - 1 - UInt64(Int32.max) {
                    let fd = Int32(truncatingIfNeeded: UInt64.max - 1 - data)
                    if let timer = timers[fd], ticker_timerfd_drain(fd) > 0 { timer.body() }
                    continue
                }
                dispatch(data, mask)
            }
            if afterEventsRequested {
                afterEventsRequested = false
                afterEvents?()
            }
        }
        running = false
    }

    /// `epoll_wait`'s timeout: until `wakeDeadline`, rounded up to whole
    /// milliseconds; -1 (block) without one.
    private func waitTimeoutMs() -> Int32 {
        guard let deadline = wakeDeadline else { return -1 }
        let now = Clock.now()
        guard deadline > now else { return 0 }
        return Int32(min(60_000, ((deadline - now).rawValue + 999_999) / 1_000_000))
    }

    /// Handles whatever the priority set has ready, without blocking.
    /// A full batch is followed by another poll (up to 8 batches), so a
    /// burst of new connections does not queue a probe behind it for
    /// several iterations; handling each is cheap (upgrades past the
    /// server's pace are parked, not performed here).
    private func pollPrioritySet() {
        for _ in 0..<8 {
            let n = ticker_epoll_wait(priorityFD, priorityEvents, Self.maxPriorityEvents, 0)
            guard n > 0 else { return }
            for i in 0..<Int(n) { dispatch(priorityEvents[i].data, priorityEvents[i].events) }
            if n < Self.maxPriorityEvents { return }
        }
    }

    private func dispatch(_ data: UInt64, _ mask: UInt32) {
        let token = EventToken(packed: data)
        let slot = Int(token.slot)
        guard slot < handlers.count, generations[slot] == token.generation,
              let handler = handlers[slot] else { return }
        handler.handleEvents(mask, loop: self)
    }

    /// Stops `run()` from inside the loop.
    public func stop() { running = false }
}
