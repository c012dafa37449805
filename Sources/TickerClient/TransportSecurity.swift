/// A layer between the socket and the WebSocket bytes, for `wss://` URLs.
/// The client itself has no TLS (so a program that only needs `ws://`
/// builds without OpenSSL); the `TickerClientTLS` product supplies one
/// (`TLSSecurity`), and `AsyncTickerClient.Configuration.security` plugs
/// it in.
///
/// The layer is sans-IO: the client reads and writes the socket, and hands
/// the layer the bytes it read; the layer hands back the bytes to write
/// and the plaintext it decrypted.
public protocol TransportSecurity: Sendable {
    /// A fresh channel for one connection to `host` (the name or address
    /// from the URL: what the certificate must be valid for).
    func makeChannel(host: String) throws(SecureChannelError) -> any SecureChannel
}

/// One connection's TLS state, used on one thread at a time.
public protocol SecureChannel: AnyObject {
    /// The handshake has completed (and the peer was verified).
    var isEstablished: Bool { get }
    /// Starts the handshake: appends the first bytes to send to `network`.
    func start(network: inout [UInt8]) throws(SecureChannelError)
    /// Bytes read from the socket: appends what they decrypt to to
    /// `plaintext`, and anything the protocol must answer to `network`.
    /// Returns false when the peer ended the session (close_notify).
    func receive(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8], network: inout [UInt8]) throws(SecureChannelError) -> Bool
    /// Encrypts `plaintext` (only once established) into `network`.
    func send(_ plaintext: [UInt8], network: inout [UInt8]) throws(SecureChannelError)
}

/// Why TLS failed, as one sentence (`ticker tap` prints it as is).
public struct SecureChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
