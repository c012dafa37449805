import MarketData
import PosixIO
import WebSocketProtocol

/// Auth (servers started with `--auth-keys`): the token each attempt
/// presents, its refresh on `token_expiring`, and which refusals end the
/// stream instead of being retried in a loop.
extension ClientSession {
    /// What a `.provider` fetch is for.
    enum TokenPurpose: Sendable {
        /// The next connection attempt waits for it.
        case attempt
        /// The open connection sends it with `{"op":"auth"}`.
        case refresh
    }

    /// Before an attempt: true when its token (if any) is at hand; false
    /// while a `.provider` fetch runs (its completion calls `connect`).
    func tokenReady(now: UInt64) -> Bool {
        switch configuration.credential {
        case nil:
            presentedToken = nil
            return true
        case .token(let token):
            presentedToken = token
            return true
        case .provider(let provider):
            if let fresh = freshToken {
                presentedToken = fresh
                freshToken = nil
                return true
            }
            if !fetchingToken { fetch(provider, for: .attempt) }
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
        guard case .provider(let provider) = configuration.credential, !fetchingToken else { return }
        fetch(provider, for: .refresh)
    }

    private func fetch(_ provider: @escaping @Sendable () async throws -> String, for purpose: TokenPurpose) {
        fetchingToken = true
        let id = self.id
        Task {
            let result: Result<String, any Error>
            do {
                result = .success(try await provider())
            } catch {
                result = .failure(error)
            }
            ClientRuntime.shared.execute { state in
                state.sessions[id]?.tokenFetched(result, for: purpose)
            }
        }
    }

    private func tokenFetched(_ result: Result<String, any Error>, for purpose: TokenPurpose) {
        fetchingToken = false
        switch (purpose, result) {
        case (.attempt, .success(let token)):
            freshToken = token
            connect(now: Clock.monotonicNanos())
        case (.attempt, .failure(let error)):
            failed(.tokenProvider("\(error)"))
        case (.refresh, .success(let token)):
            guard case .open = phase, welcomed else { return }
            presentedToken = token
            requestID += 1
            sendText(ControlRequest.auth(id: requestID, token: token).encoded())
        case (.refresh, .failure):
            // The connection keeps its token until it expires; the server
            // then closes with 4401 and the next attempt asks again.
            break
        }
    }

    /// A close code of the auth rules: true when handled here. 4403 (and
    /// 4401 with a fixed token, or none) end the stream: the same token
    /// cannot succeed. 4429 is a failed attempt, retried after back-off.
    /// 4401 with a provider is an ordinary loss: the next attempt asks for
    /// a fresh token.
    func closedForAuth(_ code: WebSocketCloseCode) -> Bool {
        switch code {
        case .forbidden, .unauthorized:
            guard code == .forbidden || !hasProvider else { return false }
            let error = TickerClientError.unauthorized(code: code.rawValue)
            dropSocket()
            established = false
            scheduleNext(reason: error.description, error: error, at: nil, now: Clock.monotonicNanos())
            return true
        case .tooManyConnections:
            established = false
            failed(.handshake("too many connections for this token's subject (close 4429)"))
            return true
        default:
            return false
        }
    }

    /// An upgrade refused for its token: 403 always ends the stream, 401
    /// unless a provider can give a new token.
    func isFinalAuthRefusal(_ error: TickerClientError) -> Bool {
        guard case .rejected(let status, _, _) = error else { return false }
        return status == 403 || (status == 401 && !hasProvider)
    }

    private var hasProvider: Bool {
        if case .provider = configuration.credential { true } else { false }
    }
}
