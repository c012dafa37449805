import MarketData
import ScaleOut

/// The seam the Redis links (ScaleOut) see of the node: a gateway's reader
/// publishes and adopts epochs through it, both links log through it.
extension Broadcast: ScaleOutNode {
    func publish(_ ticks: [Tick]) { publish(makeBatch(ticks)) }

    func log(_ level: ScaleOutLogLevel, _ message: String) {
        switch level {
        case .info: Log.info(message)
        case .error: Log.error(message)
        }
    }
}
