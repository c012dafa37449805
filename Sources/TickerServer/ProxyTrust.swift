import Foundation
import Glibc

/// IP addresses as the server keys them: the 16 bytes of an IPv6 address,
/// an IPv4 address mapped (`::ffff:a.b.c.d`), held in a `UInt128` laid out
/// as `Syscall.peerAddress` lays it out (the bytes in memory order), so a
/// forwarded client and a directly connected one count against the same
/// per-address limit.
public enum IPAddress {
    /// The 16 bytes of `text` (IPv4 dotted quad or IPv6); nil when it is neither.
    public static func bytes(_ text: String) -> [UInt8]? {
        let text = text.trimmingCharacters(in: .whitespaces)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + withUnsafeBytes(of: v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    public static func key(_ bytes: [UInt8]) -> UInt128 {
        precondition(bytes.count == 16)
        var raw: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        return UInt128(raw.0) << 64 | UInt128(raw.1)
    }

    public static func bytes(key: UInt128) -> [UInt8] {
        let raw = (UInt64(truncatingIfNeeded: key >> 64), UInt64(truncatingIfNeeded: key))
        return withUnsafeBytes(of: raw) { Array($0) }
    }

    /// Dotted quad for a mapped IPv4 address, else IPv6 text.
    public static func text(_ bytes: [UInt8]) -> String {
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}

/// `--trusted-proxies`: the reverse proxies whose `X-Forwarded-For` /
/// `X-Real-IP` name the real client. Only their word is taken: a client
/// that sends the header itself, straight to the server, is ignored.
public struct ProxyTrust: Sendable, Equatable {
    public struct Range: Sendable, Equatable {
        var bytes: [UInt8]
        var prefix: Int

        func contains(_ address: [UInt8]) -> Bool {
            var bits = prefix
            for i in 0..<16 where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xff : ~(0xff >> UInt8(bits))
                if address[i] & mask != bytes[i] & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    public private(set) var ranges: [Range] = []
    public var isEmpty: Bool { ranges.isEmpty }

    public init() {}

    /// Addresses or CIDR ranges ("10.0.0.0/8", "127.0.0.1", "fd00::/8");
    /// an IPv4 prefix counts within the mapped space. Throws the item that
    /// is neither.
    public init(parsing items: [String]) throws(ProxyTrustError) {
        for item in items {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let bytes = IPAddress.bytes(String(parts[0])) else { throw ProxyTrustError(item: item) }
            let isV4 = !parts[0].contains(":")
            var prefix = 128
            if parts.count == 2 {
                guard let n = Int(parts[1]), n >= 0, n <= (isV4 ? 32 : 128) else { throw ProxyTrustError(item: item) }
                prefix = isV4 ? 96 + n : n
            }
            ranges.append(Range(bytes: bytes, prefix: prefix))
        }
    }

    public func trusts(_ address: [UInt8]) -> Bool { ranges.contains { $0.contains(address) } }

    /// The client a trusted proxy forwarded: the rightmost `X-Forwarded-For`
    /// entry that is not itself a trusted proxy (entries to its left were
    /// written by whoever sent the request, and can be forged), or the
    /// leftmost when every hop is trusted; `X-Real-IP` only when there is no
    /// `X-Forwarded-For`. nil when nothing usable is named (then the proxy
    /// itself counts): an unparsable hop, or the unspecified address `::`.
    public func forwardedClient(forwardedFor: [String], realIP: String?) -> [UInt8]? {
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map(String.init)
        var client: [UInt8]?
        if hops.isEmpty {
            client = realIP.flatMap(IPAddress.bytes)
        } else {
            for hop in hops.reversed() {
                guard let address = IPAddress.bytes(hop) else { return nil }   // garbage: believe nothing further left
                client = address
                if !trusts(address) { break }
            }
        }
        guard let client, client.contains(where: { $0 != 0 }) else { return nil }
        return client
    }
}

public struct ProxyTrustError: Error, CustomStringConvertible {
    public var item: String
    public var description: String { "'\(item)' is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8)" }
}
