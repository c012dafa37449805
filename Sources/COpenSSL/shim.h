// The system's OpenSSL (Debian: libssl-dev) for TickerClientTLS. Header
// only: the functions below wrap macros Swift cannot call.
#ifndef TICKER_COPENSSL_SHIM_H
#define TICKER_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

static inline int ticker_ssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int ticker_ssl_ctx_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

static inline long ticker_bio_pending(BIO *bio) {
    return (long)BIO_ctrl_pending(bio);
}

#endif
