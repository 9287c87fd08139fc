/// Space, tab, CR or LF.
@inlinable
func isASCIIBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

// Byte trimming for header values and message bodies, without going through `String` and Foundation's
// trimming. Written for the two concrete slice types that use it, not as one generic over collections:
// called from another module, the generic ran unspecialised (metadata lookups on every call) and cost more
// than the multipart parse around it.

extension ArraySlice where Element == UInt8 {
    /// The bytes without leading and trailing spaces, tabs, CR and LF.
    public func trimmingASCIIWhitespace() -> ArraySlice<UInt8> {
        var first = startIndex, end = endIndex
        while first < end, isASCIIBlank(self[first]) { first += 1 }
        while end > first, isASCIIBlank(self[end - 1]) { end -= 1 }
        return self[first..<end]
    }
}

extension Slice where Base == UnsafeRawBufferPointer {
    /// The bytes without leading and trailing spaces, tabs, CR and LF.
    public func trimmingASCIIWhitespace() -> Slice<UnsafeRawBufferPointer> {
        var first = startIndex, end = endIndex
        while first < end, isASCIIBlank(self[first]) { first += 1 }
        while end > first, isASCIIBlank(self[end - 1]) { end -= 1 }
        return self[first..<end]
    }
}
