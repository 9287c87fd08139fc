internal import Foundation
internal import IPAMCore
package import StrictJSON

/// Encodes `Encodable` values to `JSONValue`, keeping members in the order they are encoded (a synthesized
/// `encode(to:)` writes them in declaration order), which `JSONEncoder` does not.
///
/// The API's conventions: a nil optional is written as `null` (answers name every member; a type that leaves a
/// member out writes its own `encode(to:)`), a `Date` as ISO 8601 (`ISO8601.format`), a dictionary with
/// string keys sorted by key, a `JSONValue` as it is.
package enum WireEncoder {
    /// `value` as JSON.
    package static func json(_ value: some Encodable) -> JSONValue {
        let slot = Slot()
        // The conventions above never fail: an encoding error is a bug in an answer type.
        do { try encode(value, into: slot, path: []) } catch { preconditionFailure("\(type(of: value)): \(error)") }
        return slot.json
    }

    /// `value` as compact JSON bytes (an answer's body).
    package static func bytes(_ value: some Encodable) -> [UInt8] { json(value).serializedBytes }

    static func encode(_ value: some Encodable, into slot: Slot, path: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: slot.content = .value(json)
        case let date as Date: slot.content = .value(.string(ISO8601.format(date)))
        case let text as String: slot.content = .value(.string(text))
        case let flag as Bool: slot.content = .value(.bool(flag))
        case let dictionary as any SortedKeysEncodable: try dictionary.encodeSorted(into: slot, path: path)
        default: try value.encode(to: Encoder(slot: slot, codingPath: path))
        }
    }

    /// Where a value is being built: one JSON value, or an object or array whose members are still filled in.
    final class Slot {
        enum Content {
            case empty
            case value(JSONValue)
            case object([(String, Slot)])
            case array([Slot])
        }
        var content = Content.empty

        var json: JSONValue {
            switch content {
            case .empty: .object([])
            case .value(let value): value
            case .object(let members): .object(members.map { ($0.0, $0.1.json) })
            case .array(let items): .array(items.map(\.json))
            }
        }

        /// The member `key` (replaced if it was written before), as a new slot.
        func member(_ key: String) -> Slot {
            let slot = Slot()
            guard case .object(var members) = content else {
                content = .object([(key, slot)])
                return slot
            }
            if let index = members.firstIndex(where: { $0.0 == key }) {
                members[index].1 = slot
            } else {
                members.append((key, slot))
            }
            content = .object(members)
            return slot
        }

        func append() -> Slot {
            let slot = Slot()
            if case .array(let items) = content { content = .array(items + [slot]) } else { content = .array([slot]) }
            return slot
        }
    }

    struct Encoder: Swift.Encoder {
        let slot: Slot
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if case .object = slot.content {} else { slot.content = .object([]) }
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            if case .array = slot.content {} else { slot.content = .array([]) }
            return Unkeyed(slot: slot, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil(forKey key: Key) throws { slot.member(key.stringValue).content = .value(.null) }
        mutating func encode(_ value: some Encodable, forKey key: Key) throws {
            try WireEncoder.encode(value, into: slot.member(key.stringValue), path: codingPath + [key])
        }
        mutating func encode(_ value: Bool, forKey key: Key) throws {
            slot.member(key.stringValue).content = .value(.bool(value))
        }
        mutating func encode(_ value: String, forKey key: Key) throws {
            slot.member(key.stringValue).content = .value(.string(value))
        }
        mutating func encode(_ value: Int, forKey key: Key) throws {
            slot.member(key.stringValue).content = .value(.number(String(value)))
        }
        // A nil optional is `null`, never a missing member: every typed overload says so.
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { try present(value, key) }

        private mutating func present<T: Encodable>(_ value: T?, _ key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            Encoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            Encoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }
        mutating func superEncoder() -> any Swift.Encoder {
            Encoder(slot: slot.member("super"), codingPath: codingPath)
        }
        mutating func superEncoder(forKey key: Key) -> any Swift.Encoder {
            Encoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]
        var count: Int {
            if case .array(let items) = slot.content { return items.count }
            return 0
        }

        mutating func encodeNil() throws { slot.append().content = .value(.null) }
        mutating func encode(_ value: some Encodable) throws {
            try WireEncoder.encode(value, into: slot.append(), path: codingPath)
        }
        mutating func encode(_ value: Int) throws { slot.append().content = .value(.number(String(value))) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            Encoder(slot: slot.append(), codingPath: codingPath).container(keyedBy: keyType)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            Encoder(slot: slot.append(), codingPath: codingPath).unkeyedContainer()
        }
        mutating func superEncoder() -> any Swift.Encoder { Encoder(slot: slot.append(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let slot: Slot
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws { slot.content = .value(.null) }
        mutating func encode(_ value: Bool) throws { slot.content = .value(.bool(value)) }
        mutating func encode(_ value: String) throws { slot.content = .value(.string(value)) }
        mutating func encode(_ value: Double) throws { slot.content = .value(.number(try Self.number(value))) }
        mutating func encode(_ value: Float) throws { slot.content = .value(.number(try Self.number(Double(value)))) }
        mutating func encode(_ value: Int) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: Int8) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: Int16) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: Int32) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: Int64) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: UInt) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: UInt8) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: UInt16) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: UInt32) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: UInt64) throws { slot.content = .value(.number(String(value))) }
        mutating func encode(_ value: some Encodable) throws {
            try WireEncoder.encode(value, into: slot, path: codingPath)
        }

        /// A finite number as JSON text (`1.5`, `2` for a whole number); JSON has no NaN or infinity.
        static func number(_ value: Double) throws -> String {
            guard value.isFinite else {
                throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "JSON has no \(value)"))
            }
            return value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }
}

/// A dictionary with string keys, written with its keys sorted (so an answer's bytes do not depend on hashing).
protocol SortedKeysEncodable {
    func encodeSorted(into slot: WireEncoder.Slot, path: [any CodingKey]) throws
}

extension Dictionary: SortedKeysEncodable where Key == String, Value: Encodable {
    func encodeSorted(into slot: WireEncoder.Slot, path: [any CodingKey]) throws {
        slot.content = .object([])
        for key in keys.sorted() {
            try WireEncoder.encode(self[key]!, into: slot.member(key), path: path)
        }
    }
}
