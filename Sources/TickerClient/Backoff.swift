import Retry

/// The client's reconnect back-off (`Configuration.backoff`): the project's
/// one back-off, `Retry.ExponentialBackoff`, under the name docs/CLIENT.md uses.
public typealias Backoff = ExponentialBackoff
