/// One XML element: its name (prefix kept), attributes in document order, child elements and its text
/// (the character data directly inside it, entities resolved).
package struct XMLElement: Sendable, Equatable {
    package var name: String
    package var attributes: [XMLAttribute]
    package var children: [XMLElement]
    package var text: String

    package init(name: String, attributes: [XMLAttribute] = [], children: [XMLElement] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    package func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }

    /// Every child named `name`.
    package func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child named `name`.
    package func childText(_ name: String) -> String? { child(name)?.text }
}

package struct XMLAttribute: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Why a document was refused, with the byte offset where parsing stopped.
package struct XMLParseError: Error, Equatable, CustomStringConvertible {
    package var offset: Int
    package var reason: String

    package init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    package var description: String { "invalid XML at byte \(offset): \(reason)" }
}

/// A small, strict XML parser for the answers of AWS's Query APIs.
///
/// It reads elements, attributes, character data, comments, CDATA sections, the five predefined entities
/// and numeric character references, and an XML declaration at the very start. It refuses everything
/// else: document type declarations (so no entity can be defined or expanded), other processing
/// instructions, unknown entities, unbalanced or mismatched tags, duplicate attributes, characters XML does
/// not allow, invalid UTF-8, more than one root, anything but whitespace and comments after the root, and
/// nesting deeper than `maximumDepth`.
package struct StrictXMLParser {
    package static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The document's root element.
    package static func parse(_ bytes: [UInt8]) throws(XMLParseError) -> XMLElement {
        var parser = StrictXMLParser(bytes)
        return try parser.document()
    }

    package static func parse(_ text: String) throws(XMLParseError) -> XMLElement { try parse(Array(text.utf8)) }

    private mutating func document() throws(XMLParseError) -> XMLElement {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw fail("the document is not valid UTF-8") }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        if starts(with: "<?xml") { try declaration() }
        try misc()
        guard starts(with: "<") else {
            throw fail(position == bytes.count ? "no root element" : "text before the root")
        }
        let root = try element(depth: 1)
        try misc()
        guard position == bytes.count else { throw fail("content after the root element") }
        return root
    }

    /// `<?xml version="1.0" encoding="UTF-8"?>`: only version, encoding (UTF-8) and standalone.
    private mutating func declaration() throws(XMLParseError) {
        position += 5
        guard position < bytes.count, Self.isSpace(bytes[position]) else { throw fail("malformed XML declaration") }
        let attributes = try attributeList()
        skipSpace()
        guard starts(with: "?>") else { throw fail("unterminated XML declaration") }
        position += 2
        for attribute in attributes {
            switch attribute.name {
            case "version": guard attribute.value.hasPrefix("1.") else { throw fail("unsupported XML version") }
            case "encoding":
                guard attribute.value.lowercased() == "utf-8" else { throw fail("encoding other than UTF-8") }
            case "standalone": continue
            default: throw fail("unknown XML declaration attribute '\(attribute.name)'")
            }
        }
    }

    /// Whitespace and comments between top-level parts; a DTD or processing instruction is refused.
    private mutating func misc() throws(XMLParseError) {
        while true {
            skipSpace()
            if starts(with: "<!--") {
                try comment()
            } else if starts(with: "<!") {
                throw fail("document type declarations are not accepted")
            } else if starts(with: "<?") {
                throw fail("processing instructions are not accepted")
            } else {
                return
            }
        }
    }

    private mutating func comment() throws(XMLParseError) {
        position += 4
        guard let end = find("--") else { throw fail("unterminated comment") }
        guard end + 2 < bytes.count, bytes[end + 2] == UInt8(ascii: ">") else { throw fail("'--' inside a comment") }
        position = end + 3
    }

    private mutating func element(depth: Int) throws(XMLParseError) -> XMLElement {
        guard depth <= Self.maximumDepth else { throw fail("elements nested deeper than \(Self.maximumDepth)") }
        position += 1 // "<"
        let name = try self.name()
        var result = XMLElement(name: name, attributes: try attributeList())
        skipSpace()
        if starts(with: "/>") {
            position += 2
            return result
        }
        guard starts(with: ">") else { throw fail("malformed start tag <\(name)>") }
        position += 1
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("<\(name)> is not closed") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "<") {
                if starts(with: "</") {
                    position += 2
                    let closing = try self.name()
                    guard closing == name else { throw fail("</\(closing)> closes <\(name)>") }
                    skipSpace()
                    guard starts(with: ">") else { throw fail("malformed end tag </\(closing)>") }
                    position += 1
                    result.text = String(decoding: text, as: UTF8.self)
                    return result
                } else if starts(with: "<!--") {
                    try comment()
                } else if starts(with: "<![CDATA[") {
                    position += 9
                    guard let end = find("]]>") else { throw fail("unterminated CDATA section") }
                    let content = Array(bytes[position..<end])
                    try checkCharacters(content)
                    text += content
                    position = end + 3
                } else if starts(with: "<!") || starts(with: "<?") {
                    throw fail("declarations and processing instructions are not accepted inside elements")
                } else {
                    result.children.append(try element(depth: depth + 1))
                }
            } else if byte == UInt8(ascii: "&") {
                text += try reference()
            } else {
                if starts(with: "]]>") { throw fail("']]>' in character data") }
                try checkCharacter(at: position)
                text.append(byte)
                position += 1
            }
        }
    }

    /// Attributes up to (not including) `>`, `/>` or `?>`; each `name="value"` or `name='value'`, unique.
    private mutating func attributeList() throws(XMLParseError) -> [XMLAttribute] {
        var attributes: [XMLAttribute] = []
        while true {
            let hadSpace = skipSpace()
            guard position < bytes.count else { throw fail("unterminated tag") }
            let byte = bytes[position]
            if byte == UInt8(ascii: ">") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") {
                return attributes
            }
            guard hadSpace else { throw fail("attributes must be separated by whitespace") }
            let name = try self.name()
            skipSpace()
            guard starts(with: "=") else { throw fail("attribute '\(name)' has no value") }
            position += 1
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'")
            else { throw fail("attribute '\(name)' is not quoted") }
            let quote = bytes[position]
            position += 1
            var value: [UInt8] = []
            while true {
                guard position < bytes.count else { throw fail("unterminated value of attribute '\(name)'") }
                let byte = bytes[position]
                if byte == quote {
                    position += 1
                    break
                } else if byte == UInt8(ascii: "<") {
                    throw fail("'<' in the value of attribute '\(name)'")
                } else if byte == UInt8(ascii: "&") {
                    value += try reference()
                } else {
                    try checkCharacter(at: position)
                    value.append(byte)
                    position += 1
                }
            }
            guard !attributes.contains(where: { $0.name == name }) else { throw fail("duplicate attribute '\(name)'") }
            attributes.append(XMLAttribute(name: name, value: String(decoding: value, as: UTF8.self)))
        }
    }

    /// `&lt;` `&gt;` `&amp;` `&apos;` `&quot;`, `&#N;` and `&#xH;` (a character XML allows); nothing else.
    private mutating func reference() throws(XMLParseError) -> [UInt8] {
        let start = position
        position += 1
        guard let semicolon = bytes[position...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
            throw fail("unterminated entity reference", at: start)
        }
        let body = String(decoding: bytes[position..<semicolon], as: UTF8.self)
        position = semicolon + 1
        switch body {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "apos": return [UInt8(ascii: "'")]
        case "quot": return [UInt8(ascii: "\"")]
        default: break
        }
        guard body.hasPrefix("#") else { throw fail("unknown entity '&\(body);'", at: start) }
        let digits = body.dropFirst()
        let value: UInt32?
        if digits.hasPrefix("x") {
            let hex = digits.dropFirst()
            value = hex.isEmpty || !hex.allSatisfy(\.isHexDigit) ? nil : UInt32(hex, radix: 16)
        } else {
            value = digits.isEmpty || !digits.allSatisfy({ $0.isASCII && $0.isNumber }) ? nil : UInt32(digits)
        }
        guard let value, Self.isAllowed(value), let scalar = Unicode.Scalar(value) else {
            throw fail("invalid character reference '&\(body);'", at: start)
        }
        return Array(String(Character(scalar)).utf8)
    }

    private mutating func name() throws(XMLParseError) -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            let isNameByte =
                (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ":") || byte >= 0x80
                || (position > start
                    && ((byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")))
            guard isNameByte else { break }
            position += 1
        }
        guard position > start else { throw fail("a name was expected") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = position
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
        return position > start
    }

    private func starts(with literal: String) -> Bool { bytes[position...].starts(with: literal.utf8) }

    private func find(_ literal: String) -> Int? {
        let needle = Array(literal.utf8)
        var index = position
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0] && bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Control characters other than tab, line feed and carriage return are not XML characters.
    private func checkCharacter(at index: Int) throws(XMLParseError) {
        let byte = bytes[index]
        if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
            throw fail("control character 0x\(String(byte, radix: 16)) in the document", at: index)
        }
    }

    private func checkCharacters(_ content: [UInt8]) throws(XMLParseError) {
        for (offset, byte) in content.enumerated() where byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D {
            throw fail("control character in a CDATA section", at: position + offset)
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    /// XML 1.0's `Char` production.
    private static func isAllowed(_ value: UInt32) -> Bool {
        value == 0x9 || value == 0xA || value == 0xD || (value >= 0x20 && value <= 0xD7FF)
            || (value >= 0xE000 && value <= 0xFFFD) || (value >= 0x10000 && value <= 0x10FFFF)
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> XMLParseError {
        XMLParseError(offset: offset ?? position, reason: reason)
    }
}
