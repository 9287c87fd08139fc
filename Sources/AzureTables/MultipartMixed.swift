package import HTTPTransport

/// `multipart/mixed` as the Table service's `$batch` uses it, read and written as bytes.
///
/// Shared by the client (building requests, reading answers) and the local endpoint (reading requests,
/// building answers). Lines may end in CRLF or a bare LF; nothing here goes through Foundation's string
/// searching, which dominated the cost of a transaction on both sides.
package enum MultipartMixed {
    /// The `boundary` parameter of a `Content-Type` value, without quotes.
    package static func boundary(in contentType: String) -> String? {
        for parameter in contentType.split(separator: ";") {
            let trimmed = parameter[asciiTrimmedRange(parameter.utf8, lineBreaks: false)]
            guard trimmed.count > 9, trimmed.prefix(9).lowercased() == "boundary=" else { continue }
            var value = trimmed.dropFirst(9)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// The bodies of the parts between `--boundary` delimiter lines (without the delimiters, the line
    /// break before each delimiter, or anything after the closing `--boundary--`).
    package static func parts(of body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
        let delimiter = Array(("--" + boundary).utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int? = nil
        var search = body.startIndex
        while let found = find(delimiter, in: body, from: search) {
            let atLineStart = found == body.startIndex || body[found - 1] == UInt8(ascii: "\n")
            let afterDelimiter = found + delimiter.count
            guard atLineStart else {
                search = found + 1
                continue
            }
            if let start = partStart {
                var end = found
                if end > start, body[end - 1] == UInt8(ascii: "\n") { end -= 1 }
                if end > start, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                parts.append(body[start..<max(start, end)])
            }
            if afterDelimiter + 1 < body.endIndex, body[afterDelimiter] == UInt8(ascii: "-"),
                body[afterDelimiter + 1] == UInt8(ascii: "-")
            {
                return parts // closing delimiter
            }
            let lineEnd = body[afterDelimiter...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
            partStart = min(lineEnd + 1, body.endIndex)
            search = partStart!
        }
        return parts // no closing delimiter: what was complete
    }

    /// A header block (`Name: value` lines up to an empty line), its optional first line (an HTTP
    /// request or status line), and the bytes after the empty line.
    package struct Message: Sendable {
        package var startLine: String?
        package var headers: HTTPHeaderList
        package var body: ArraySlice<UInt8>
    }

    /// Reads a MIME part or an embedded HTTP message. With `startLine`, the first non-empty line is
    /// returned as the request or status line rather than read as a header.
    package static func message(_ bytes: ArraySlice<UInt8>, startLine: Bool = false) -> Message {
        var index = bytes.startIndex
        var first: String? = nil
        var headers = HTTPHeaderList()
        func nextLine() -> ArraySlice<UInt8>? {
            guard index < bytes.endIndex else { return nil }
            let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            var line = bytes[index..<end]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            index = min(end + 1, bytes.endIndex)
            return line
        }
        if startLine {
            while let line = nextLine() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                first = String(decoding: line, as: UTF8.self)
                break
            }
        }
        while let line = nextLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            headers.add(
                name: String(decoding: line[..<colon].trimmingASCIIWhitespace(), as: UTF8.self),
                value: String(decoding: line[(colon + 1)...].trimmingASCIIWhitespace(), as: UTF8.self))
        }
        return Message(startLine: first, headers: headers, body: bytes[index...])
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>, from: Int) -> Int? {
        guard let head = needle.first, haystack.endIndex - from >= needle.count else { return nil }
        var index = from
        let last = haystack.endIndex - needle.count
        while index <= last {
            guard let candidate = haystack[index...last].firstIndex(of: head) else { return nil }
            var matched = true
            for offset in 1..<needle.count where haystack[candidate + offset] != needle[offset] {
                matched = false
                break
            }
            if matched { return candidate }
            index = candidate + 1
        }
        return nil
    }
}
