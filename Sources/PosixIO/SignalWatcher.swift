import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM / SIGINT start a graceful shutdown instead of killing the process:
/// the signals are ignored as such and delivered to `handler` on a Dispatch
/// queue instead, so nothing runs in signal context.
public enum SignalWatcher {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    public static func onTerminate(_ handler: @escaping @Sendable () -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }

    /// SIGHUP (re-read configuration files) delivered to `handler` the same way.
    public static func onHangUp(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler(handler: handler)
        source.resume()
        sources.append(source)
    }
}
