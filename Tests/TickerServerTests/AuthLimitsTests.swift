import Auth
import Foundation
import MarketData
import Testing
import TickerClient
import TickerServer
import WebSocketProtocol

/// Issue 23, acceptance 4: tokens just under and just over each limit get
/// their documented answer at once. The token limit (4,096 bytes, before
/// any decoding: 401 `too_large`), the HTTP head limit (8 KiB: 431, in the
/// header or in `?token=`), and the 64 KiB message limit for `auth`
/// (just under: `invalid_token`; over: close 1009).
@Suite(.serialized) struct AuthLimitsTests {
    /// A valid token of `length` bytes or just under (padding in `symbols`,
    /// whose unknown names are ignored), and the next larger one.
    static func tokens(around length: Int) -> (under: String, over: String) {
        var padding = 0
        var last = AuthUpgradeTests.token()
        while true {
            let next = AuthUpgradeTests.token(symbols: ["*", String(repeating: "P", count: padding + 1)])
            if next.count > length { return (last, next) }
            last = next
            padding += 1
        }
    }

    private func elapsed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = Date()
        let value = try body()
        return (value, Date().timeIntervalSince(start))
    }

    private func request(port: UInt16, path: String, header: String?) throws -> RawSocket {
        let s = try RawSocket(port: port)
        try s.write(upgradeRequest(path: path, extra: header.map { "Authorization: Bearer \($0)\r\n" } ?? ""))
        _ = try s.read(timeoutMs: 3_000) { $0.firstRange(of: Array("\r\n\r\n".utf8)) != nil }
        return s
    }

    @Test func theTokenAndHeadLimitsAnswerAtOnce() async throws {
        let (under, over) = Self.tokens(around: TokenVerifier.maxTokenBytes)
        #expect(under.utf8.count <= 4_096 && over.utf8.count > 4_096)
        try await withServer({ $0.authKeysPath = AuthUpgradeTests.keysFile }) { server in
            let (accepted, t1) = try elapsed { try request(port: server.port, path: "/v1/stream", header: under) }
            #expect(accepted.status == 101 && t1 < 1, "\(under.utf8.count) bytes in the header")
            let (refused, t2) = try elapsed { try request(port: server.port, path: "/v1/stream", header: over) }
            #expect(refused.status == 401 && refused.text.contains("error_description=\"token is \(over.utf8.count) bytes, over the 4096-byte limit"), "\(refused.text.prefix(300))")
            #expect(t2 < 1)
            let (query, t3) = try elapsed { try request(port: server.port, path: "/v1/stream?token=\(under)", header: nil) }
            #expect(query.status == 101 && t3 < 1, "\(under.utf8.count) bytes in ?token=")

            // Past the 8 KiB head: refused before the token is looked at.
            let huge = String(repeating: "a", count: 9_000)
            for (path, header) in [("/v1/stream", Optional(huge)), ("/v1/stream?token=\(huge)", nil)] {
                let (s, t) = try elapsed { try request(port: server.port, path: path, header: header) }
                #expect(s.status == 431 && t < 1, "\(s.text.prefix(120))")
            }
        }
    }

    @Test func authMessagesMeetTheMessageLimit() async throws {
        try await withServer({ $0.authKeysPath = AuthUpgradeTests.keysFile }) { server in
            let c = try TickerClient(url: TickerURL(host: "127.0.0.1", port: server.port),
                                     extraHeaders: [("Authorization", "Bearer \(AuthUpgradeTests.token())")])
            // {"op":"auth","id":1,"token":"…"} at exactly 65,536 bytes.
            let frame = #"{"op":"auth","id":1,"token":""}"#
            let fits = String(repeating: "a", count: 65_536 - frame.utf8.count)
            try c.send(.auth(id: 1, token: fits))
            var answer: ControlError?
            let start = Date()
            // A quiet moment is not the end: read until the answer or 3 s (the suite may be busy).
            while answer == nil, Date().timeIntervalSince(start) < 3, let event = try c.next(timeoutMs: 100) ?? .some(.unknownText("")) {
                if case .control(.error(let error)) = event { answer = error }
            }
            #expect(answer?.code == .invalidToken && answer?.id == 1, "\(String(describing: answer))")
            #expect(answer?.message.contains("token is \(fits.utf8.count) bytes, over the 4096-byte limit") == true)
            #expect(Date().timeIntervalSince(start) < 1)

            // One byte over: refused at the frame header with 1009. Only the
            // header and the start of the message go out: the server closes
            // at once, and bytes it never read would turn its FIN into a
            // reset that can overtake the close frame.
            let over = Array(ControlRequest.auth(id: 2, token: fits + "a").encoded().utf8)
            #expect(over.count == 65_537)
            let masked = WebSocketFrameEncoder.encode(opcode: .text, payload: over, fin: true, maskKey: 0x0102_0304)
            try c.sendRaw(Array(masked.prefix(14 + 100)))
            var closed: UInt16?
            let sent = Date()
            while closed == nil, Date().timeIntervalSince(sent) < 5, let event = try c.next(timeoutMs: 100) ?? .some(.unknownText("")) {
                if case .closed(let code) = event { closed = code?.rawValue }
            }
            #expect(closed == 1009)
        }
    }
}
