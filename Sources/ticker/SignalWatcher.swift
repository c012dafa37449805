import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM / SIGINT start a graceful shutdown instead of killing the process.
enum SignalWatcher {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func onTerminate(_ handler: @escaping @Sendable () -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
    }
}
