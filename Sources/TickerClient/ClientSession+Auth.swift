import MarketData
import PosixIO
import WebSocketProtocol

/// Auth (servers started with `--auth-keys`): the token each attempt
/// presents, its refresh on `token_expiring`, and which refusals end the
/// stream instead of being retried in a loop.
extension ClientSession {
    /// A `.provider` call under way. Its result is used if it is still the
    /// latest call when it returns (a timed-out call's late answer is not).
    struct TokenFetch {
        var generation: Int
        var startedAt: UInt64
    }

    /// Before an attempt: true when its token (if any) is at hand; false
    /// while a `.provider` call runs (its completion calls `connect`).
    func tokenReady(now: UInt64) -> Bool {
        switch configuration.credential {
        case nil:
            presentedToken = nil
            return true
        case .token(let token):
            guard Self.isTokenText(token) else {
                finishForAuth(.tokenProvider(TokenTextError().description))
                return false
            }
            presentedToken = token
            return true
        case .provider(let provider):
            if let fresh = freshToken {
                presentedToken = fresh
                freshToken = nil
                return true
            }
            // A refresh already under way serves the attempt too (`tokenFetched`).
            if tokenFetch == nil { fetch(provider, now: now) }
            phase = .waiting(at: .max)
            return false
        }
    }

    func authorizationHeader() -> [(String, String)] {
        presentedToken.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    /// `token_expiring`: a provider is asked for a fresh token, sent with
    /// `auth`; a fixed token has none, and the server closes at `exp`.
    func refreshToken() {
        guard case .provider(let provider) = configuration.credential, tokenFetch == nil else { return }
        fetch(provider, now: Clock.monotonicNanos())
    }

    private func fetch(_ provider: @escaping @Sendable () async throws -> String, now: UInt64) {
        tokenGeneration += 1
        let generation = tokenGeneration
        tokenFetch = TokenFetch(generation: generation, startedAt: now)
        let id = self.id
        Task {
            let result: Result<String, any Error>
            do {
                result = .success(try await provider())
            } catch {
                result = .failure(error)
            }
            ClientRuntime.shared.execute { state in
                state.sessions[id]?.tokenFetched(result, generation: generation)
            }
        }
    }

    /// What a finished call is for depends on the moment it returns: an
    /// attempt waiting for a token takes it (even when the call began as a
    /// refresh); otherwise an open connection sends it with `auth`.
    private func tokenFetched(_ result: Result<String, any Error>, generation: Int) {
        guard tokenFetch?.generation == generation else { return }
        tokenFetch = nil
        let result = result.flatMap { token in
            Self.isTokenText(token) ? .success(token) : .failure(TokenTextError())
        }
        if case .waiting(let at) = phase, at == .max {
            switch result {
            case .success(let token):
                freshToken = token
                connect(now: Clock.monotonicNanos())
            case .failure(let error):
                failed(.tokenProvider("\(error)"))
            }
            return
        }
        guard case .success(let token) = result, case .open = phase, welcomed else {
            // The connection keeps its token until it expires; the server
            // then closes with 4401 and the next attempt asks again.
            return
        }
        presentedToken = token
        requestID += 1
        sendText(ControlRequest.auth(id: requestID, token: token).encoded())
    }

    /// The sweep: a provider that has not answered within the connect
    /// timeout fails the attempt (its late answer is ignored).
    func checkTokenFetch(now: UInt64) {
        guard let fetch = tokenFetch, case .waiting(let at) = phase, at == .max,
              now &- fetch.startedAt > configuration.connectTimeoutNanos else { return }
        tokenFetch = nil
        failed(.tokenProvider("no token within \(configuration.connectTimeoutNanos / 1_000_000) ms"))
    }

    /// A close code of the auth rules: true when handled here. 4403 (and
    /// 4401 with a fixed token, or none) end the stream with that error:
    /// the same token cannot succeed. 4429 is a failed attempt, retried
    /// after back-off. 4401 with a provider is an ordinary loss: the next
    /// attempt asks for a fresh token.
    func closedForAuth(_ code: WebSocketCloseCode) -> Bool {
        switch code {
        case .forbidden, .unauthorized:
            guard code == .forbidden || !hasProvider else { return false }
            finishForAuth(.unauthorized(code: code.rawValue))
            return true
        case .tooManyConnections:
            established = false
            failed(.handshake("too many connections for this token's subject (close 4429)"))
            return true
        default:
            return false
        }
    }

    /// Ends the stream with `error`, also after sessions that were up.
    private func finishForAuth(_ error: TickerClientError) {
        dropSocket()
        established = false
        if sessions > 0 { continuation.yield(.disconnected(reason: error.description, retryInNanos: nil)) }
        phase = .finished
        state.sessions[id] = nil
        continuation.finish(throwing: error)
    }

    /// An upgrade refused for its token, with a token configured: 403
    /// always ends the stream, 401 unless a provider can give a new one.
    /// Without a credential these statuses are retried as before.
    func isFinalAuthRefusal(_ error: TickerClientError) -> Bool {
        guard configuration.credential != nil, case .rejected(let status, _, _) = error else { return false }
        return status == 403 || (status == 401 && !hasProvider)
    }

    /// `forbidden` or `unknown_symbol` listing symbols: they leave the
    /// subscription (a reconnect does not ask for them again), and a
    /// refused resubscribe is sent again without them, so the allowed
    /// symbols are not lost with the refused ones.
    func refused(_ error: ControlError) {
        guard error.code == .forbidden || error.code == .unknownSymbol, let symbols = error.symbols, !symbols.isEmpty else { return }
        book.unsubscribe(symbols)
        guard !established, welcomed else { return }
        resubscribe()
    }

    private var hasProvider: Bool {
        if case .provider = configuration.credential { true } else { false }
    }

    /// A JWT is base64url parts and dots: anything else (a newline from a
    /// file, say) would break the request head.
    static func isTokenText(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
        }
    }
}

struct TokenTextError: Error, CustomStringConvertible {
    var description: String { "the token holds characters a JWT cannot have" }
}
