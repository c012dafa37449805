/// A rejected control request, thrown by the decoder and sent back verbatim
/// as an `error` reply, so the same value serves both roles.
public struct ControlError: Error, Equatable, Sendable {
    public var code: ControlErrorCode
    /// Echo of the request's `id` when it could be recovered.
    public var id: Int?
    public var message: String
    /// Only for errors about particular symbols (e.g. which ones are unknown).
    public var symbols: [String]?

    public init(code: ControlErrorCode, id: Int? = nil, message: String, symbols: [String]? = nil) {
        self.code = code
        self.id = id
        self.message = message
        self.symbols = symbols
    }
}
