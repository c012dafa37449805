import PosixIO
import WebSocketProtocol

/// The session's bytes on their way out, and through TLS for `wss://`.
extension ClientSession {
    /// `wss://`: bytes from the socket through the TLS layer; what it
    /// answers goes out, what it decrypts goes on as if read from the socket.
    func decrypt(_ bytes: UnsafeRawBufferPointer) {
        guard let channel else { return }
        let wasEstablished = channel.isEstablished
        var plaintext: [UInt8] = []
        let open: Bool
        do {
            open = try channel.receive(bytes, plaintext: &plaintext, network: &outbox)
            if !wasEstablished && channel.isEstablished && !beforeTLS.isEmpty {
                let held = beforeTLS
                beforeTLS = []
                try channel.send(held, network: &outbox)
            }
        } catch {
            tlsFailed(error)
            return
        }
        flush()
        if !plaintext.isEmpty && fd >= 0 { plaintext.withUnsafeBytes { absorb($0) } }
        if !open && fd >= 0 { endOfStream() }
    }

    func tlsFailed(_ error: SecureChannelError) {
        let url = schedule.currentURL
        failed(.tls(host: url.host, port: url.port, error))
    }

    // MARK: writing

    func sendText(_ text: String) {
        guard let frame = ws.encode(.text, payload: Array(text.utf8)) else { return }
        write(frame)
    }

    func write(_ bytes: [UInt8]) {
        guard fd >= 0 else { return }
        if let channel {
            guard channel.isEstablished else {
                beforeTLS += bytes
                return
            }
            do {
                try channel.send(bytes, network: &outbox)
            } catch {
                tlsFailed(error)
                return
            }
        } else {
            outbox += bytes
        }
        flush()
    }

    func flush() {
        guard fd >= 0, !outbox.isEmpty else { return }
        var written = 0
        while written < outbox.count {
            let result: IOResult
            do {
                result = try outbox.withUnsafeBytes { try Syscall.send(fd, UnsafeRawBufferPointer(rebasing: $0[written...])) }
            } catch {
                outbox.removeAll()
                lost("write failed: \((error as? SystemError)?.reason ?? "\(error)")")
                return
            }
            guard case .processed(let n) = result else { break }
            written += n
        }
        outbox.removeFirst(written)
        let mask = EpollEvents.readable | EpollEvents.readHangUp | (outbox.isEmpty ? 0 : EpollEvents.writable)
        try? state.loop.modify(fd: fd, token: token, events: mask)
    }
}
