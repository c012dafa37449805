import COpenSSL
import Glibc
import TickerClient

/// TLS for `wss://` URLs through the system's OpenSSL: the server's
/// certificate must chain to a trusted CA and be valid for the URL's host
/// (a name, or an IP address), always. Trusted CAs are the system's
/// (`/etc/ssl/certs`) unless `caFile` names a PEM file, which then replaces
/// them (a private CA, as in the nginx test setup). TLS 1.2 or newer.
///
/// ```swift
/// var configuration = AsyncTickerClient.Configuration(urls: [url], symbols: ["AAPL"])
/// configuration.security = try TLSSecurity(caFile: "/etc/ticker/ca.pem")
/// ```
public struct TLSSecurity: TransportSecurity {
    private let context: TLSContext

    /// Throws when the CA file cannot be read or holds no certificate.
    public init(caFile: String? = nil) throws(SecureChannelError) {
        context = try TLSContext(caFile: caFile)
    }

    public func makeChannel(host: String) throws(SecureChannelError) -> any SecureChannel {
        try TLSChannel(context: context, host: host)
    }
}

/// One `SSL_CTX` (settings and trusted CAs), shared by every connection of
/// a `TLSSecurity`. OpenSSL documents an `SSL_CTX` as safe to use from
/// several threads once configured, and this one is never changed after
/// `init`: hence `@unchecked Sendable`.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer

    init(caFile: String?) throws(SecureChannelError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else {
            throw SecureChannelError("OpenSSL cannot create a TLS context: \(TLSChannel.openSSLReason())")
        }
        pointer = ctx
        _ = ticker_ssl_ctx_min_tls12(ctx)
        if let caFile {
            guard access(caFile, R_OK) == 0 else {
                throw SecureChannelError("cannot read the CA file \(caFile): \(String(cString: strerror(errno)))")
            }
            ERR_clear_error()
            guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                throw SecureChannelError("the CA file \(caFile) holds no PEM certificate (\(TLSChannel.openSSLReason()))")
            }
        } else {
            SSL_CTX_set_default_verify_paths(ctx)
        }
    }

    deinit { SSL_CTX_free(pointer) }
}
