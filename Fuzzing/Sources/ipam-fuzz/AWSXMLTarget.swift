import AWSClient

/// The strict XML parser of AWS's Query API answers (EC2, STS: bytes from the network): bytes give a root element
/// or an `XMLParseError` whose offset lies in the input and which has a reason; an accepted document, written out
/// again (text escaped, children after the text), parses to the same element.
enum AWSXMLTarget: FuzzTarget {
    static let name = "aws-xml"

    static func run(_ bytes: [UInt8]) {
        let root: XMLElement
        do { root = try StrictXMLParser.parse(bytes) } catch {
            guard error.offset >= 0, error.offset <= bytes.count, !error.reason.isEmpty else {
                violated("refusal at offset \(error.offset) of \(bytes.count) bytes: '\(error.reason)'")
            }
            return
        }
        let written = write(root)
        guard let again = try? StrictXMLParser.parse(written), again == root else {
            violated("the accepted document, written out again, does not parse to the same element: \(written)")
        }
    }

    static func write(_ element: XMLElement) -> String {
        let attributes = element.attributes.map { " \($0.name)=\"\(escape($0.value))\"" }.joined()
        return
            "<\(element.name)\(attributes)>\(escape(element.text))\(element.children.map(write).joined())</\(element.name)>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
