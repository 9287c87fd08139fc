import HTTPTransport

// Small ASCII helpers for request parsing: Foundation's `contains`, `range(of:)` and
// `trimmingCharacters(in:)` go through NSString on Linux and showed up in every operation's profile.

extension StringProtocol {
    /// Whether `needle` (lowercase ASCII) occurs in this text, ignoring ASCII case.
    func containsASCIICaseInsensitive(_ needle: String) -> Bool {
        let haystack = Array(utf8)
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        guard haystack.count >= pattern.count else { return false }
        for start in 0...(haystack.count - pattern.count) where asciiLowercased(haystack[start]) == pattern[0] {
            if (1..<pattern.count).allSatisfy({ asciiLowercased(haystack[start + $0]) == pattern[$0] }) { return true }
        }
        return false
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpacesAndTabs() -> String { String(self[asciiTrimmedRange(utf8, lineBreaks: false)]) }
}
