/// RFC 6455 §1.3's opening handshake (with a query and an Origin), as the
/// handshake tests feed it; the HTTP parser's tests have their own copy.
let upgradeRequest = """
    GET /feed?symbols=AAPL HTTP/1.1\r
    Host: example.com:8080\r
    Upgrade: websocket\r
    Connection: keep-alive, Upgrade\r
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
    Sec-WebSocket-Version: 13\r
    Origin: http://example.com\r
    \r

    """
