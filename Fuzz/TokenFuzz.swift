// libFuzzer target for the token verifier and the key-file parser (Sources/Auth). Built by
// Scripts/fuzz.sh from Sources/Auth/*.swift and this file, on top of an instrumented copy of
// Sources/MarketData built as module MarketData (the JSON reader).
//
// Input layout: with a 0x00 byte, `header 0x00 payload` are two JSON texts that this entry
// encodes and signs correctly with key k1, so the fuzzer gets past the signature to the
// header, claim and time checks; without one, the input is a token as a client sends it
// (the verifier holds the fixture keys k1 and k2, so the PyJWT seeds verify). Every input is
// also read as a key file.
//
// Oracle (a violation traps, which libFuzzer reports as a crash):
// - verify returns claims or a TokenError (typed throws: nothing else can escape) whose
//   description is printable ASCII without `"` or `\`, at most 100 bytes;
// - tooLarge exactly when the token is over maxTokenBytes;
// - a token signed here never fails with badSignature (its key is the only one held);
// - accepted claims re-mint to a token that verifies to the same claims;
// - a String and a Substring of the same token get the same answer;
// - base64url: what decodes re-encodes to the same text (one spelling per byte string);
// - SHA-256 of the input fed in two pieces equals the one-shot digest;
// - the key file parses or fails on a line that exists, with a message that echoes nothing
//   of the file but a validated kid (its text with quoted kids and numbers removed is one of
//   the parser's fixed sentences).

let k1 = hash("ticker auth fixture key k1")
let k2 = hash("ticker auth fixture key k2")
let rawVerifier = TokenVerifier(keys: try! AuthKeys(parsing: "k1:\(standardBase64(k1))\nk2:\(standardBase64(k2))\n"))
let signedVerifier = TokenVerifier(keys: try! AuthKeys(parsing: "k1:\(standardBase64(k1))\n"), leewaySeconds: 60)
let now: Int64 = 1_726_000_000

func hash(_ label: String) -> [UInt8] { SHA256.hash(Array(label.utf8)) }

func standardBase64(_ bytes: [UInt8]) -> String {
    String(decoding: Base64Codec.encode(bytes, alphabet: Base64Codec.standardAlphabet), as: UTF8.self)
        + String(repeating: "=", count: (3 - bytes.count % 3) % 3)
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("oracle violated: \(message())") }
}

func outcome(_ verifier: TokenVerifier, _ token: some StringProtocol) -> Result<TokenClaims, TokenError> {
    do throws(TokenError) {
        return .success(try verifier.verify(token, nowSeconds: now))
    } catch {
        return .failure(error)
    }
}

func checkToken(_ token: String, verifier: TokenVerifier, signedHere: Bool) {
    let result = outcome(verifier, token)
    check(outcome(verifier, ("x" + token).dropFirst()) == result, "String and Substring disagree")
    switch result {
    case .success(let claims):
        let again = TokenMinter.mint(claims, kid: "k1", secret: k1)
        if again.utf8.count <= TokenVerifier.maxTokenBytes {
            check(outcome(verifier, again) == .success(claims), "re-minted claims do not verify alike")
        }
    case .failure(let error):
        let description = Array(error.description.utf8)
        check(!description.isEmpty && description.count <= TokenError.maxDescriptionBytes, "description length \(description.count)")
        check(description.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }, "description not quotable")
        check((error == .tooLarge(token.utf8.count)) == (token.utf8.count > TokenVerifier.maxTokenBytes), "size rule")
        check(!(signedHere && error == .badSignature), "a correctly signed token failed its signature")
    }
}

func checkBase64URL(_ bytes: ArraySlice<UInt8>) {
    if let decoded = Base64URL.decode(bytes) {
        check(Array(Base64URL.encode(decoded).utf8) == Array(bytes), "a second spelling decoded")
    }
    check(Base64URL.decode(Base64URL.encode(bytes)) == Array(bytes), "round trip")
}

func checkSHA256(_ bytes: [UInt8]) {
    var hasher = SHA256Hasher()
    let split = bytes.count / 3
    hasher.update(bytes[..<split])
    hasher.update(bytes[split...].lazy.map { $0 })
    check(hasher.finalize() == SHA256.hash(bytes), "split digest differs")
}

/// A key-file message with every quoted segment and run of digits taken out.
func skeleton(_ message: String) -> String {
    var out = ""
    var quoted = false
    var lastWasDigit = false
    for char in message {
        if char == "'" {
            quoted.toggle()
            if !quoted { out += "''" }
            continue
        }
        if quoted { continue }
        if char.isASCII && char.isNumber {
            if !lastWasDigit { out += "#" }
            lastWasDigit = true
            continue
        }
        lastWasDigit = false
        out.append(char)
    }
    return out
}

/// The parser's sentences, learnt from one file per kind of error.
let keyFileSentences: Set<String> = {
    let secret = standardBase64(k1)
    let files = ["x", ":" + secret, "a b:" + secret, "k:*", "k:", "k:AAAA", "k:\(secret)\nk:\(secret)", ""]
    var sentences = Set<String>()
    for file in files {
        do throws(AuthKeyFileError) {
            _ = try AuthKeys(parsing: file)
            fatalError("sample key file accepted: \(file)")
        } catch {
            sentences.insert(skeleton(error.message))
        }
    }
    check(sentences.count == files.count, "sample key files share sentences")
    return sentences
}()

func checkKeyFile(_ text: String) {
    do throws(AuthKeyFileError) {
        let keys = try AuthKeys(parsing: text)
        check(!keys.kids.isEmpty, "no keys accepted")
        for kid in keys.kids { check((keys.secret(for: kid)?.count ?? 0) >= AuthKeys.minSecretBytes, "short secret") }
    } catch {
        let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        check(error.line >= 0 && error.line <= lines, "line \(error.line) of \(lines)")
        check(keyFileSentences.contains(skeleton(error.message)), "unexpected message: \(error.message)")
        // Quoted segments are kids, which are validated before they are quoted.
        for (index, segment) in error.message.split(separator: "'", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
            check(segment.utf8.count <= AuthKeys.maxKidBytes, "long quote")
            check(segment.utf8.allSatisfy { $0 < 0x80 && (Character(Unicode.Scalar($0)).isLetter
                || Character(Unicode.Scalar($0)).isNumber || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E) },
                  "quoted text is not a kid: \(segment)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func tokenFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    if let zero = bytes.firstIndex(of: 0) {
        var input = Base64URL.encode(bytes[..<zero]) + "." + Base64URL.encode(bytes[(zero + 1)...])
        input += "." + Base64URL.encode(HMACSHA256.authenticate(Array(input.utf8), key: k1))
        checkToken(input, verifier: signedVerifier, signedHere: true)
    } else {
        checkToken(text, verifier: rawVerifier, signedHere: false)
    }
    for part in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).prefix(4) {
        checkBase64URL(part)
    }
    checkSHA256(bytes)
    checkKeyFile(text)
    return 0
}
