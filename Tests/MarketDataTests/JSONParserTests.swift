import Testing
@testable import MarketData

/// The bounded JSON reader behind the control decoders: grammar, strings,
/// numbers, the depth limit, duplicate names and the linear-work bound.
@Suite struct JSONParserTests {
    private let depth = ControlRequestDecoder.maxNestingDepth

    private func parse(_ text: String) throws(JSONParser.Failure) -> JSONValue {
        try JSONValue.parse(Array(text.utf8), maxDepth: depth)
    }

    private func failure(_ bytes: [UInt8]) -> JSONParser.Failure? {
        do {
            _ = try JSONValue.parse(bytes, maxDepth: depth)
            return nil
        } catch {
            return error
        }
    }

    private func failure(_ text: String) -> JSONParser.Failure? {
        failure(Array(text.utf8))
    }

    private func isSyntaxError(_ text: String) -> Bool {
        if case .syntax? = failure(text) { true } else { false }
    }

    /// Byte examinations for `text`, whatever the outcome.
    private func work(_ text: String) -> Int {
        var work = 0
        _ = try? JSONParser.parse(Array(text.utf8), maxDepth: depth, work: &work)
        return work
    }

    private func nested(_ levels: Int) -> String {
        String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
    }

    // MARK: - Grammar

    @Test func readsEveryKindOfValue() throws {
        let root = try parse(#" {"n":null,"t":true,"f":false,"i":-12,"s":"x","a":[1,[]],"o":{}} "#)
        let object = try #require(root.object)
        #expect(object["n"]?.isNull == true)
        #expect(object["t"]?.kindName == "a boolean")
        #expect(object["f"]?.kindName == "a boolean")
        #expect(object["i"]?.integer == -12)
        #expect(object["s"]?.string == "x")
        #expect(object["a"]?.array?.count == 2)
        #expect(object["o"]?.object?.values.isEmpty == true)
        #expect(object["missing"] == nil)
        #expect(try parse("7").integer == 7)
        #expect(try parse(#""top""#).string == "top")
    }

    @Test(arguments: [
        "", " ", "hello", "{'a':1}", "[1,]", #"{"a":1,}"#, "[1 2]", #"{"a" 1}"#, #"{a:1}"#, "NaN", "Infinity",
        "[1] x", "// c\n1", "tru", "nul", "[", "]", "{", "}", #"{"a":}"#, "[,1]", "\u{FEFF}1",
    ])
    func rejectsWhatIsNotJSON(text: String) {
        #expect(isSyntaxError(text), "\(text.debugDescription) should be refused")
    }

    @Test func everyProperPrefixOfADocumentIsRefused() {
        let text = #"{"op":"subscribe","id":-1.5e+3,"symbols":["A\u00e9\n",{"k":[true,false,null]}]}"#
        #expect((try? parse(text)) != nil)
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            #expect(failure(Array(bytes[..<end])) != nil, "prefix of \(end) bytes")
        }
    }

    // MARK: - Strings

    @Test func decodesEscapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#).string == "\"\\/\u{8}\u{C}\n\r\t")
        #expect(try parse(#""\u0000\u001f\u00e9\u20AC""#).string == "\u{0}\u{1F}é€")
        #expect(try parse(#""\ud83d\ude00""#).string == "😀")
        #expect(try parse(#""a\u0062c""#).string == "abc")
    }

    @Test func keepsRawUTF8AsIs() throws {
        #expect(try parse("\"é😀e\u{301}\"").string == "é😀e\u{301}")
        // Canonically equivalent but different bytes: both forms survive, unnormalised.
        #expect(try parse("\"e\u{301}\"").string.map { Array($0.utf8) } == [0x65, 0xCC, 0x81])
    }

    @Test(arguments: [
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#, #""\ud83d\ud83d""#,
        #""\x""#, #""\u12""#, #""\u12g4""#, #""\"#, #""abc"#, "\"tab\there\"", "\"nl\nhere\"",
    ])
    func rejectsBadStrings(text: String) {
        #expect(isSyntaxError(text), "\(text.debugDescription) should be refused")
    }

    @Test func rejectsInvalidUTF8() {
        #expect(failure([0x22, 0xC3, 0x28, 0x22]) == .syntax(offset: 0))
        #expect(failure([0x22, 0xED, 0xA0, 0x80, 0x22]) == .syntax(offset: 0))   // an encoded surrogate
        #expect(failure([0x22, 0xFF, 0x22]) == .syntax(offset: 0))
    }

    // MARK: - Numbers

    @Test func readsIntegersExactlyAndIntegralDoubles() throws {
        #expect(try parse("0").integer == 0)
        #expect(try parse("-0").integer == 0)
        #expect(try parse("9223372036854775807").integer == .max)
        #expect(try parse("-9223372036854775808").integer == .min)
        #expect(try parse("1.0").integer == 1)
        #expect(try parse("1e2").integer == 100)
        #expect(try parse("-2.5E+1").integer == -25)
        #expect(try parse("1.5").integer == nil)
        #expect(try parse("9223372036854775808").integer == nil)   // beyond Int64 and 9e15
        #expect(try parse("1e400").integer == nil)                 // infinite: JSON, but no integer
        #expect(try parse("1e-400").integer == 0)
        #expect(try parse("1.5").kindName == "a number")
    }

    @Test(arguments: ["01", "-", "-a", "1.", ".5", "1e", "1e+", "+1", "0x1", "1.e3", "--1", "1E-", "00"])
    func rejectsBadNumbers(text: String) {
        #expect(isSyntaxError(text), "\(text) should be refused")
    }

    // MARK: - Depth

    @Test func depthLimitIsExact() throws {
        #expect(try parse(nested(depth)).array != nil)
        #expect(failure(nested(depth + 1)) == .tooDeep(limit: depth))
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(try parse(objects).object != nil)
        let tooDeepObjects = String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        #expect(failure(tooDeepObjects) == .tooDeep(limit: depth))
        // Depth is nesting, not the number of containers.
        let wide = "[" + Array(repeating: nested(depth - 1), count: 1000).joined(separator: ",") + "]"
        #expect(try parse(wide).array?.count == 1000)
    }

    @Test func depthIsCheckedBeforeTheRestIsRead() {
        // Refused at the first bracket past the limit, however much follows.
        let deep = String(repeating: "[", count: 100_000)
        #expect(failure(deep) == .tooDeep(limit: depth))
        #expect(work(deep) < 4 * (depth + 1) + 8)
    }

    // MARK: - Duplicate names

    @Test func repeatedNamesAreRefused() {
        #expect(failure(#"{"a":1,"a":2}"#) == .duplicateName(Array("a".utf8)))
        #expect(failure(#"{"op":"ping","\u006fp":"list"}"#) == .duplicateName(Array("op".utf8)))
        #expect(failure(#"{"x":{"k":1,"k":1}}"#) == .duplicateName(Array("k".utf8)))
        #expect(failure(#"[{"":1,"":2}]"#) == .duplicateName([]))
        #expect(failure(#"{"a":{"a":1},"b":[{"a":1}],"a":3}"#) == .duplicateName(Array("a".utf8)))
    }

    @Test func sameNameInDifferentObjectsIsFine() throws {
        let root = try parse(#"{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":{"a":{"a":null}}}"#)
        #expect(root.object?["a"]?.object?["a"]?.integer == 1)
    }

    @Test func namesAreComparedAsBytes() throws {
        // "é" precomposed and decomposed are different names in JSON.
        let root = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}")
        #expect(root.object?["\u{E9}"]?.integer == 1)
        #expect(root.object?["e\u{301}"]?.integer == 2)
    }

    @Test(arguments: [1, 8, 9, 10, 50])
    func repeatsAreFoundInLargeObjects(members: Int) {
        // Small objects compare pairwise, larger ones through the hash table; both must agree.
        let names = (0..<members).map { #""n\#($0)":\#($0)"# }
        let unique = "{" + names.joined(separator: ",") + "}"
        #expect(failure(unique) == nil)
        for repeated in [0, members / 2, members - 1] {
            let text = "{" + names.joined(separator: ",") + #","n\#(repeated)":0}"#
            #expect(failure(text) == .duplicateName(Array("n\(repeated)".utf8)), "repeat of member \(repeated) of \(members)")
            let escaped = "{" + names.joined(separator: ",") + #","\u006e\#(repeated)":0}"#
            #expect(failure(escaped) == .duplicateName(Array("n\(repeated)".utf8)))
        }
    }

    // MARK: - Cost

    /// The issue-9 message: ten 500-deep subtrees in one `ping`.
    static let attack = #"{"op":"ping","id":1,"x":["#
        + Array(repeating: String(repeating: "[", count: 500) + String(repeating: "]", count: 500), count: 10)
        .joined(separator: ",") + "]}"

    @Test func theAttackIsRefusedAtTheDepthLimit() {
        #expect(Self.attack.utf8.count > 10_000)
        #expect(failure(Self.attack) == .tooDeep(limit: depth))
        #expect(work(Self.attack) <= 8 * Self.attack.utf8.count + 16)
    }

    /// Shapes that stress each part of the reader, filled to 64 KiB. Work is
    /// counted, not timed: at most 8 examinations per byte, and doubling the
    /// input at most doubles the work.
    @Test(arguments: [
        "1,", "[],", "{},", #"{"a":0},"#, #""s","#, #""\u00e9\ud83d\ude00","#, "-1.5e-300,", " ",
        #"{"a":[1,{"b":null}]},"#, #"{"a0":0,"a1":0,"a2":0,"a3":0,"a4":0,"a5":0,"a6":0,"a7":0,"a8":0,"a9":0},"#,
    ])
    func workIsLinear(unit: String) {
        func document(_ bytes: Int) -> String {
            #"{"op":"ping","x":["# + String(repeating: unit, count: bytes / unit.utf8.count) + "0]}"
        }
        for size in [1024, 65536] {
            let text = document(size)
            #expect(failure(text) == nil)
            #expect(work(text) <= 8 * text.utf8.count + 16, "\(unit) × \(size)")
            let doubled = document(2 * size)
            #expect(work(doubled) <= 2 * work(text) + 64, "\(unit): doubling the input more than doubled the work")
        }
    }

    @Test func manyDistinctNamesInOneObjectStayLinear() {
        let members = (0..<7000).map { #""\#(String($0, radix: 16))":0"# }.joined(separator: ",")
        let text = "{" + members + "}"
        #expect(failure(text) == nil)
        #expect(work(text) <= 8 * text.utf8.count + 16)
    }

    @Test(arguments: ["1", "[]", "[[[[]]]]", "[1,2,3]", #"{"a":{"b":[1,{}]}}"#, "[1,[],{},[[1]],{\"a\":1},2]"])
    func tapeStaysWithinItsBound(text: String) throws {
        let document = try JSONParser.parse(Array(text.utf8), maxDepth: depth)
        #expect(document.nodes.count <= (text.utf8.count + 1) / 2)
    }

    /// The tape's bound is for complete documents; a truncated one can open a container
    /// per byte and outgrow it. Found by the token fuzzer (`[[[[[[[[{` as a JWT header):
    /// it trapped, as `[[[[` did as a control message. Now it is a syntax error.
    @Test(arguments: ["[[", "[[[", "[[[[", "[[[[[[[[", "[[[[[[[[{", #"[{"a":["#, #"{"a":[[[[[["#, "[[[[[[[1"])
    func truncatedNestingBeyondTheTapeIsNotJSON(text: String) {
        #expect(isSyntaxError(text), "\(text.debugDescription) should be refused")
    }
}
