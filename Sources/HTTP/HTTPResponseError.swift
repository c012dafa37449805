/// A refused upgrade, carrying the ready-made response (400, 403 or 426) so the caller
/// only has to write it and close.
public struct HTTPResponseError: Error, Sendable {
    public var response: HTTPResponse

    public init(response: HTTPResponse) {
        self.response = response
    }
}
