/// A key file the server must not start with. `line` is 1-based (0: the file as a whole);
/// `message` never holds the secret, nor the text of a line that could be one.
public struct AuthKeyFileError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String {
        line == 0 ? "key file: \(message)" : "key file line \(line): \(message)"
    }
}
