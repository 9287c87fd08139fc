import StrictJSON

/// StrictJSON, which reads every request body, Table service payload, JWT and JWKS: any bytes give a value or a
/// `ParseError` inside the input; a parsed value prints to JSON that parses back to the same value, and printing
/// that again gives the same bytes (the printer is a fixed point after one round).
enum JSONTarget: FuzzTarget {
    static let name = "json"

    static func run(_ bytes: [UInt8]) {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch let error as JSONValue.ParseError {
            guard (0...bytes.count).contains(error.offset) else {
                violated("error offset \(error.offset) outside 0...\(bytes.count)")
            }
            return
        } catch {
            violated("parse threw \(type(of: error)), not a ParseError")
        }
        let printed = value.serializedBytes
        let reparsed: JSONValue
        do { reparsed = try JSONValue.parse(printed) } catch {
            violated("the printed value does not parse: \(error) in \(text(printed))")
        }
        guard reparsed == value else { violated("parse(print(x)) != x for \(text(printed))") }
        guard reparsed.serializedBytes == printed else { violated("printing is not stable for \(text(printed))") }
    }
}
