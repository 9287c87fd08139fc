internal import Foundation
internal import IPAMCore
package import StrictJSON

/// Coding keys of a type some of whose members are left out of the JSON when nil, instead of written as `null`:
/// the members naming a scope's owner (`subscription` on Azure, `cloud` and `accountId` on AWS), so an answer
/// about an Azure scope is written exactly as before AWS scopes existed.
package protocol OmittedWhenNil: CodingKey {
    static var omittedWhenNil: Set<String> { get }
}

/// Encodes `Encodable` values to `JSONValue`, keeping members in the order they are encoded (a synthesized
/// `encode(to:)` writes them in declaration order), which `JSONEncoder` does not.
///
/// The API's conventions: a nil optional is written as `null` (answers name every member; a type that leaves a
/// member out writes its own `encode(to:)`), a `Date` as ISO 8601 (`ISO8601.format`), a dictionary with
/// string keys sorted by key, a `JSONValue` as it is.
package enum WireEncoder {
    /// `value` as JSON.
    package static func json(_ value: some Encodable) -> JSONValue { slot(value).json }

    /// `value` as compact JSON bytes (an answer's body), written straight from the encoded members.
    package static func bytes(_ value: some Encodable) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        slot(value).write(to: &out)
        return out
    }

    static func slot(_ value: some Encodable) -> Slot {
        let slot = Slot()
        // The conventions above never fail: an encoding error is a bug in an answer type.
        do { try encode(value, into: slot, path: []) } catch { preconditionFailure("\(type(of: value)): \(error)") }
        return slot
    }

    static func encode<T: Encodable>(_ value: T, into slot: Slot, path: @autoclosure () -> [any CodingKey]) throws {
        if let leaf = leaf(value) {
            slot.set(leaf)
        } else if let dictionary = value as? any SortedKeysEncodable {
            try dictionary.encodeSorted(into: slot, path: path())
        } else {
            try value.encode(to: Encoder(slot: slot, codingPath: path()))
        }
    }

    /// `value` as one JSON value when its type is written without a container, else nil. The types are told
    /// apart by their metadata, and read as what they are without a cast (most values an answer holds are these).
    static func leaf<T: Encodable>(_ value: T) -> JSONValue? {
        if T.self == String.self { return .string(exactly(value, as: String.self)) }
        if T.self == Int.self { return .number(String(exactly(value, as: Int.self))) }
        if T.self == Bool.self { return .bool(exactly(value, as: Bool.self)) }
        if T.self == Date.self { return .string(ISO8601.format(exactly(value, as: Date.self))) }
        if T.self == JSONValue.self { return exactly(value, as: JSONValue.self) }
        return nil
    }

    /// `value` read as `U`, which its type `T` is (the caller compared the two).
    private static func exactly<T, U>(_ value: T, as type: U.Type) -> U {
        precondition(T.self == U.self)
        return withUnsafePointer(to: value) { $0.withMemoryRebound(to: U.self, capacity: 1) { $0.pointee } }
    }

    /// Where a value is being built: one JSON value, or an object or array whose members are still filled in.
    /// Members and items are appended in place (an answer's list of a thousand leases costs a thousand appends),
    /// and a member or item that is one JSON value is kept as that value, with no slot of its own.
    final class Slot {
        enum Kind {
            case empty
            case value
            case object
            case array
        }
        /// A member or item: a finished value, or a slot still being filled in.
        enum Part {
            case value(JSONValue)
            case slot(Slot)

            var json: JSONValue {
                switch self {
                case .value(let value): value
                case .slot(let slot): slot.json
                }
            }

            func write(to out: inout [UInt8]) {
                switch self {
                case .value(let value): value.write(to: &out)
                case .slot(let slot): slot.write(to: &out)
                }
            }
        }
        private(set) var kind = Kind.empty
        private var value = JSONValue.null
        private var members: [(key: String, part: Part)] = []
        private var items: [Part] = []

        /// Makes this slot the finished value `json`.
        func set(_ json: JSONValue) {
            clear()
            kind = .value
            value = json
        }

        /// Makes this slot an object (keeping its members if it is one already).
        func makeObject() {
            guard kind != .object else { return }
            clear()
            kind = .object
        }

        /// Makes this slot an object without members.
        func makeEmptyObject() {
            clear()
            kind = .object
        }

        /// Makes this slot an array (keeping its items if it is one already).
        func makeArray() {
            guard kind != .array else { return }
            clear()
            kind = .array
        }

        var count: Int { kind == .array ? items.count : 0 }

        private func clear() {
            value = .null
            members = []
            items = []
        }

        var json: JSONValue {
            switch kind {
            case .empty: .object([])
            case .value: value
            case .object: .object(members.map { ($0.key, $0.part.json) })
            case .array: .array(items.map(\.json))
            }
        }

        /// Appends this slot's compact JSON to `out` (what `json.write(to:)` would append).
        func write(to out: inout [UInt8]) {
            switch kind {
            case .empty: out.append(contentsOf: "{}".utf8)
            case .value: value.write(to: &out)
            case .object:
                out.append(UInt8(ascii: "{"))
                for (index, member) in members.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    JSONValue.writeString(member.key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    member.part.write(to: &out)
                }
                out.append(UInt8(ascii: "}"))
            case .array:
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    item.write(to: &out)
                }
                out.append(UInt8(ascii: "]"))
            }
        }

        /// Sets the member `key` (replacing it if it was written before).
        func setMember(_ key: String, _ part: Part) {
            makeObject()
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].part = part
            } else {
                members.append((key, part))
            }
        }

        /// The member `key` as a new slot to fill in (replacing it if it was written before).
        func member(_ key: String) -> Slot {
            let slot = Slot()
            setMember(key, .slot(slot))
            return slot
        }

        /// Appends an item.
        func append(_ part: Part) {
            makeArray()
            items.append(part)
        }

        /// Appends an item as a new slot to fill in.
        func append() -> Slot {
            let slot = Slot()
            append(.slot(slot))
            return slot
        }
    }

    struct Encoder: Swift.Encoder {
        let slot: Slot
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            slot.makeObject()
            let omitted = (Key.self as? any OmittedWhenNil.Type)?.omittedWhenNil ?? []
            return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath, omitted: omitted))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            slot.makeArray()
            return Unkeyed(slot: slot, codingPath: codingPath)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        let codingPath: [any CodingKey]
        /// Members left out when nil (`OmittedWhenNil`); every other nil is `null`.
        var omitted: Set<String> = []

        mutating func encodeNil(forKey key: Key) throws {
            if !omitted.isEmpty && omitted.contains(key.stringValue) { return }
            slot.setMember(key.stringValue, .value(.null))
        }
        mutating func encode(_ value: some Encodable, forKey key: Key) throws {
            if let leaf = WireEncoder.leaf(value) {
                slot.setMember(key.stringValue, .value(leaf))
            } else {
                try WireEncoder.encode(value, into: slot.member(key.stringValue), path: codingPath + [key])
            }
        }
        mutating func encode(_ value: Bool, forKey key: Key) throws {
            slot.setMember(key.stringValue, .value(.bool(value)))
        }
        mutating func encode(_ value: String, forKey key: Key) throws {
            slot.setMember(key.stringValue, .value(.string(value)))
        }
        mutating func encode(_ value: Int, forKey key: Key) throws {
            slot.setMember(key.stringValue, .value(.number(String(value))))
        }
        // A nil optional is `null`, never a missing member: every typed overload says so.
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try present(value, key) }
        mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try present(value, key) }
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
        var count: Int { slot.count }

        mutating func encodeNil() throws { slot.append(.value(.null)) }
        mutating func encode(_ value: some Encodable) throws {
            if let leaf = WireEncoder.leaf(value) {
                slot.append(.value(leaf))
            } else {
                try WireEncoder.encode(value, into: slot.append(), path: codingPath)
            }
        }
        mutating func encode(_ value: Int) throws { slot.append(.value(.number(String(value)))) }
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

        mutating func encodeNil() throws { slot.set(.null) }
        mutating func encode(_ value: Bool) throws { slot.set(.bool(value)) }
        mutating func encode(_ value: String) throws { slot.set(.string(value)) }
        mutating func encode(_ value: Double) throws { slot.set(.number(try Self.number(value))) }
        mutating func encode(_ value: Float) throws { slot.set(.number(try Self.number(Double(value)))) }
        mutating func encode(_ value: Int) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: Int8) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: Int16) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: Int32) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: Int64) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: UInt) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: UInt8) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: UInt16) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: UInt32) throws { slot.set(.number(String(value))) }
        mutating func encode(_ value: UInt64) throws { slot.set(.number(String(value))) }
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
        slot.makeEmptyObject()
        for (key, value) in sorted(by: { $0.key < $1.key }) {
            if let leaf = WireEncoder.leaf(value) {
                slot.setMember(key, .value(leaf))
            } else {
                try WireEncoder.encode(value, into: slot.member(key), path: path)
            }
        }
    }
}
