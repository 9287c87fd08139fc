/// A member name known only at run time (a state's count, a stock target's size).
struct DynamicKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension API {
    /// Named counts, written as one object with the members in the order given (not sorted).
    package struct Counts: Sendable, Equatable, Codable {
        package var entries: [Entry]

        package struct Entry: Sendable, Equatable {
            package var name: String
            package var count: Int
            package init(_ name: String, _ count: Int) {
                self.name = name
                self.count = count
            }
        }

        package init(_ entries: [Entry]) { self.entries = entries }

        package subscript(name: String) -> Int? { entries.first { $0.name == name }?.count }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DynamicKey.self)
            // in document order where the decoder keeps it (`WireDecoder` does)
            entries = try container.allKeys.map {
                Entry($0.stringValue, try container.decode(Int.self, forKey: $0))
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: DynamicKey.self)
            for entry in entries { try container.encode(entry.count, forKey: DynamicKey(entry.name)) }
        }
    }
}
