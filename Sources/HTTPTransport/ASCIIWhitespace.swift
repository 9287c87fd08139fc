extension BidirectionalCollection where Element == UInt8 {
    /// The bytes without leading and trailing spaces, tabs, CR and LF (header values, message bodies),
    /// without going through `String` and Foundation's trimming. Inlinable, so that callers in other modules
    /// get it specialised for their collection (unspecialised, it cost more than the multipart parse itself).
    @inlinable
    public func trimmingASCIIWhitespace() -> SubSequence {
        func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}
