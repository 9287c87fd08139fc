import StrictJSON
import Testing

/// Inputs the `json` fuzz target (Fuzzing/, scripts/fuzz) found, kept as tests of the parser itself.
@Suite("StrictJSON: fuzzing findings")
struct StrictJSONFuzzFindingsTests {
    /// A high surrogate escape followed by a `\u` escape that is not a low surrogate trapped (UInt32 underflow in
    /// `low - 0xDC00`): one request body took the Vendor down. Now the lone surrogate is U+FFFD and the next escape
    /// is read as its own character, as JSON parsers (Foundation's included) do.
    @Test(
        "a high surrogate not followed by a low one",
        arguments: [
            (#""\uD800\u0041""#, "\u{FFFD}A"), (#""\ud83d\u0000x""#, "\u{FFFD}\u{0}x"),
            (#""\uDBFF\uD800\uDC00""#, "\u{FFFD}\u{10000}"),
            (#""\uD800\uE000""#, "\u{FFFD}\u{E000}"), (#""\uD800""#, "\u{FFFD}"), (#""\uD800\n""#, "\u{FFFD}\n"),
            (#""\uDC00\uD800""#, "\u{FFFD}\u{FFFD}"),
        ])
    func loneHighSurrogate(input: String, expected: String) throws {
        #expect(try JSONValue.parse(input) == .string(expected))
    }

    @Test("a surrogate pair is one character")
    func surrogatePair() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00 \uD800\uDC00""#) == .string("\u{1F600} \u{10000}"))
    }

    /// `\u` takes exactly four hex digits: `UInt32(_:radix:)` also took a sign (`\u+041`), which no JSON allows.
    @Test(
        "a \\u escape is four hex digits, nothing else",
        arguments: [#""\u+041""#, #""\u-041""#, #""\u 041""#, #""\u00g1""#, #""\uD800\u+C00""#])
    func signedEscape(input: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(input) }
    }
}
