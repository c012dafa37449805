import MarketData

extension ClientSession {
    /// One binary message: its records to the book and the stream. A raw
    /// message this client cannot read (a newer version or type) is skipped,
    /// as v1 allows; a delta message that fails leaves no state to continue
    /// from, so the session ends and the next one resumes from the last
    /// record delivered. False when the session ended.
    func deliver(_ payload: [UInt8]) -> Bool {
        let message: (sendTimeNs: UInt64, ticks: [Tick])
        do {
            message = try decoder.decodeMessage(payload)
        } catch {
            guard case .delta(let why) = error else { return true }
            continuation.yield(.decodeError(why.description))
            lost("a delta message could not be decoded (\(why.code)); reconnecting to resume")
            return false
        }
        for tick in message.ticks {
            if let gap = book.observe(tick) { continuation.yield(gap) }
        }
        continuation.yield(.ticks(sendTimeNs: message.sendTimeNs, message.ticks))
        return true
    }
}
