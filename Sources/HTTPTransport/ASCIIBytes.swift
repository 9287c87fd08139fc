// ASCII byte helpers shared by the transport, the multipart reader and the local Table endpoint.

// Byte trimming for header values and message bodies, without going through `String` and Foundation's
// trimming. The slice methods below are concrete: a public generic method called from another module
// ran unspecialised (metadata lookups on every call) and cost more than the multipart parse around it.

/// The range of `bytes` without leading and trailing spaces and tabs (and CR and LF with `lineBreaks`).
/// Inlinable, so callers in other modules get it specialised for their collection.
@inlinable
package func asciiTrimmedRange<Bytes: BidirectionalCollection>(_ bytes: Bytes, lineBreaks: Bool = true) -> Range<
    Bytes.Index
>
where Bytes.Element == UInt8 {
    func blank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || (lineBreaks && (byte == 0x0D || byte == 0x0A)) }
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, blank(bytes[start]) { bytes.formIndex(after: &start) }
    while start < end {
        let before = bytes.index(before: end)
        guard blank(bytes[before]) else { break }
        end = before
    }
    return start..<end
}

extension ArraySlice where Element == UInt8 {
    /// The bytes without leading and trailing spaces, tabs, CR and LF.
    package func trimmingASCIIWhitespace() -> ArraySlice<UInt8> { self[asciiTrimmedRange(self)] }
}

extension Slice where Base == UnsafeRawBufferPointer {
    /// The bytes without leading and trailing spaces, tabs, CR and LF.
    package func trimmingASCIIWhitespace() -> Slice<UnsafeRawBufferPointer> { self[asciiTrimmedRange(self)] }
}

/// `byte` with ASCII `A`–`Z` folded to lowercase (every other byte unchanged): for comparing header names
/// and tokens case-insensitively without allocating lowercased copies.
@inlinable
package func asciiLowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
