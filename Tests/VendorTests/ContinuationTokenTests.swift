import Testing
import VendorDomain
import VendorHTTP

/// Inputs the `continuation` fuzz target (Fuzzing/, scripts/fuzz) found, kept as tests of the token reader itself.
@Suite("Continuation tokens: fuzzing findings")
struct ContinuationTokenTests {
    /// The reader split the decoded token at the first `/` character and compared the row prefix by characters: a
    /// key beginning with a combining mark (U+0489, U+0301) fuses with the `/` or the prefix's `_` into one character,
    /// so a cursor the Vendor made read back as nil (an `invalidContinuation` for a token the listing gave).
    @Test(
        "a cursor reads back from its own token whatever its keys' characters",
        arguments: [
            ("v1", "net_\u{489}\u{44A}"), ("scope", "net_\u{301}"), ("p\u{301}", "net_10.64.0.0_24"), ("", "net_"),
        ])
    func roundTrip(partitionKey: String, rowKey: String) {
        let cursor = LeaseCursor(partitionKey: partitionKey, rowKey: rowKey)
        #expect(LeaseCursor(token: cursor.token) == cursor)
        #expect(LeaseCursor(token: cursor.token, rowPrefix: "evt_") == nil, "a lease cursor is not an event listing's")
    }

    @Test("a row key starting with a combining mark, under an empty prefix")
    func combiningAfterSlash() {
        let cursor = LeaseCursor(partitionKey: "p", rowKey: "\u{301}x")
        #expect(LeaseCursor(token: cursor.token, rowPrefix: "") == cursor)
    }
}
