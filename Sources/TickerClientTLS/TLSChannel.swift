import COpenSSL
import Glibc
import TickerClient

/// One connection's TLS session over two memory BIOs: the client's own
/// socket code moves the bytes (see `SecureChannel`), OpenSSL never sees
/// the descriptor. Confined to the thread that uses it.
final class TLSChannel: SecureChannel {
    private let ssl: OpaquePointer
    private let input: OpaquePointer
    private let output: OpaquePointer
    private let host: String
    private(set) var isEstablished = false
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)

    init(context: TLSContext, host: String) throws(SecureChannelError) {
        // Everything that can fail happens before a stored property is set:
        // a throwing init whose properties are all set would run `deinit`.
        guard let ssl = SSL_new(context.pointer) else {
            throw SecureChannelError("OpenSSL cannot create a TLS session: \(Self.openSSLReason())")
        }
        guard let input = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw SecureChannelError("OpenSSL cannot create a TLS session: \(Self.openSSLReason())")
        }
        guard let output = BIO_new(BIO_s_mem()) else {
            BIO_free(input)
            SSL_free(ssl)
            throw SecureChannelError("OpenSSL cannot create a TLS session: \(Self.openSSLReason())")
        }
        SSL_set_bio(ssl, input, output)   // the session owns both BIOs from here
        SSL_set_connect_state(ssl)
        // The certificate must name the host: an IP address as an IP SAN,
        // a name as a DNS SAN (wildcards per RFC 6125); names also go out
        // as SNI so a server with several certificates picks the right one.
        let accepted: Int32
        if Self.isIPAddress(host) {
            accepted = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            _ = ticker_ssl_set_sni(ssl, host)
            accepted = SSL_set1_host(ssl, host)
        }
        guard accepted == 1 else {
            SSL_free(ssl)
            throw SecureChannelError("'\(host)' is not a host name or address a certificate can be checked against")
        }
        SSL_set_verify(ssl, SSL_VERIFY_PEER, nil)
        self.ssl = ssl
        self.input = input
        self.output = output
        self.host = host
    }

    deinit { SSL_free(ssl) }

    func start(network: inout [UInt8]) throws(SecureChannelError) {
        try handshake(network: &network)
    }

    func receive(_ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8], network: inout [UInt8]) throws(SecureChannelError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = BIO_write(input, bytes.baseAddress! + offset, Int32(clamping: bytes.count - offset))
            guard n > 0 else { throw SecureChannelError("OpenSSL refused received bytes: \(Self.openSSLReason())") }
            offset += Int(n)
        }
        if !isEstablished {
            try handshake(network: &network)
            guard isEstablished else { return true }
        }
        while true {
            ERR_clear_error()
            let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                plaintext += scratch[0..<Int(n)]
                continue
            }
            let reason = SSL_get_error(ssl, n)
            drain(into: &network)
            switch reason {
            case SSL_ERROR_WANT_READ: return true
            case SSL_ERROR_ZERO_RETURN: return false
            default: throw failure(during: "reading")
            }
        }
    }

    func send(_ plaintext: [UInt8], network: inout [UInt8]) throws(SecureChannelError) {
        var offset = 0
        while offset < plaintext.count {
            ERR_clear_error()
            // Memory BIOs grow as needed, so a write is never partial for lack of room.
            let n = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32(clamping: $0.count - offset)) }
            guard n > 0 else { throw failure(during: "writing") }
            offset += Int(n)
        }
        drain(into: &network)
    }

    private func handshake(network: inout [UInt8]) throws(SecureChannelError) {
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        drain(into: &network)
        if rc == 1 {
            isEstablished = true
            return
        }
        let reason = SSL_get_error(ssl, rc)
        if reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE { return }
        throw failure(during: "the handshake")
    }

    /// The bytes OpenSSL wants sent, moved to `network`.
    private func drain(into network: inout [UInt8]) {
        while ticker_bio_pending(output) > 0 {
            let n = scratch.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
            guard n > 0 else { return }
            network += scratch[0..<Int(n)]
        }
    }

    /// One sentence: a failed certificate check says which check and for
    /// which host; anything else gives OpenSSL's reason.
    private func failure(during what: String) -> SecureChannelError {
        let verdict = SSL_get_verify_result(ssl)
        switch Int32(verdict) {
        case X509_V_OK:
            let reason = Self.openSSLReason()
            // What OpenSSL says when the answer to its hello is plain HTTP.
            let hint = reason == "wrong version number" ? " (the port answers without TLS: use ws://?)" : ""
            return SecureChannelError("TLS error during \(what): \(reason)\(hint)")
        case X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH:
            return SecureChannelError("the server's certificate is not valid for \(host) (host name mismatch)")
        default:
            let why = String(cString: X509_verify_cert_error_string(verdict))
            return SecureChannelError("the server's certificate is not trusted: \(why)"
                + " (for a private CA, give its certificate as the CA file)")
        }
    }

    /// The oldest queued OpenSSL error's reason, e.g. "wrong version number".
    static func openSSLReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "the connection ended unexpectedly" }
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isIPAddress(_ host: String) -> Bool {
        var storage = in6_addr()
        return inet_pton(AF_INET, host, &storage) == 1 || inet_pton(AF_INET6, host, &storage) == 1
    }
}
