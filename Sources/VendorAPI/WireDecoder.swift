internal import Foundation
package import IPAMCore
package import StrictJSON
internal import Synchronization

/// Decodes `Decodable` values from `JSONValue`, in one of two modes.
///
/// `strict` is the edge's: a request body. Member names match case-insensitively; a member the type does not
/// declare, a name given twice, a `null`, or a value of the wrong type is refused as a `RequestProblem` naming
/// the field, with the codes and messages the Vendor has always answered (`unknown field 'x'`, `'x' must be a
/// string`, `subnets[0]` for an item of a list, …). A strict type's `CodingKeys` are `CaseIterable`, so unknown members are known before any is
/// read, and refused in document order. `lenient` reads answers: names match exactly, unknown members are
/// ignored (a newer Vendor may add some), `null` is an absent optional, and errors are `DecodingError`s.
package struct WireDecoder: Sendable {
    let strict: Bool

    /// Request bodies, refused as `RequestProblem`s.
    package static let strict = WireDecoder(strict: true)
    /// Answers.
    package static let lenient = WireDecoder(strict: false)

    package func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try Decoder(value: value, codingPath: [], strict: strict).decode(type)
    }

    /// A request body: it must be a JSON object whose members `T` declares.
    package func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(RequestProblem) -> T {
        guard !body.isEmpty else {
            throw RequestProblem(
                code: .invalidJSON, field: nil, message: "the request body is empty; send a JSON object")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            throw RequestProblem(
                code: .invalidJSON, field: nil, message: "the request body is not valid JSON: \(error)")
        }
        do { return try decode(type, from: value) } catch let problem as RequestProblem { throw problem } catch {
            throw RequestProblem(code: .invalidJSON, field: nil, message: "the request body is not valid: \(error)")
        }
    }

    /// A field's name in messages: members dotted, array items indexed (`tags.env`, `subnets[0].name`).
    static func name(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { name, key in
            if let index = (key as? AnyKey)?.intValue {
                name += "[\(index)]"
            } else {
                name += name.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
    }

    struct Decoder: Swift.Decoder {
        let value: JSONValue
        /// The path to the value's container, and the value's key in it: the path is built only when asked for
        /// (a message, a nested value), not for every member read.
        let parentPath: [any CodingKey]
        let key: (any CodingKey)?
        let strict: Bool
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }

        init(value: JSONValue, codingPath: [any CodingKey], strict: Bool) {
            self.init(value: value, parentPath: codingPath, key: nil, strict: strict)
        }

        private init(value: JSONValue, parentPath: [any CodingKey], key: (any CodingKey)?, strict: Bool) {
            self.value = value
            self.parentPath = parentPath
            self.key = key
            self.strict = strict
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            // The types most members are, read without a container (a cast-free fast path: T is exactly the type).
            if T.self == String.self { return exactly(try Single(decoder: self).decode(String.self)) }
            if T.self == Int.self { return exactly(try Single(decoder: self).decode(Int.self)) }
            if T.self == Bool.self { return exactly(try Single(decoder: self).decode(Bool.self)) }
            switch type {
            case is JSONValue.Type: return value as! T
            case is Date.Type:
                guard case .string(let text) = value, let date = ISO8601.parse(text) else {
                    throw mismatch("an ISO 8601 time")
                }
                return date as! T
            default: return try T(from: self)
            }
        }

        /// The refusal of a value of the wrong type (or a `null`): `'field' must be …`.
        func mismatch(_ expected: String) -> any Error {
            let field = WireDecoder.name(codingPath)
            if strict {
                if codingPath.isEmpty {
                    return RequestProblem(
                        code: .invalidJSON, field: nil, message: "the request body must be \(expected)")
                }
                return RequestProblem(code: .invalidField, field: field, message: "'\(field)' must be \(expected)")
            }
            return DecodingError.typeMismatch(
                Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), found \(value)"))
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard let members = value.objectValue else {
                throw mismatch(codingPath.isEmpty ? "a JSON object" : "an object")
            }
            return KeyedDecodingContainer(try Keyed<Key>(members: members, decoder: self))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard let items = value.arrayValue else { throw mismatch("an array") }
            return Unkeyed(items: items, decoder: self)
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

        func child(_ value: JSONValue, _ key: any CodingKey) -> Decoder {
            Decoder(value: value, parentPath: codingPath, key: key, strict: strict)
        }

        /// `value` as `T`, which its type `U` is (the caller compared the two).
        private func exactly<U, T>(_ value: U) -> T {
            precondition(T.self == U.self)
            return withUnsafePointer(to: value) { $0.withMemoryRebound(to: T.self, capacity: 1) { $0.pointee } }
        }
    }

    /// The names a strict type declares, lower-cased, when its keys are `CaseIterable`; worked out once per type.
    static func declaredNames<Key: CodingKey>(_ type: Key.Type) -> Set<String>? {
        if let known = declared.withLock({ $0[ObjectIdentifier(type)] }) { return known }
        func lowered<K: CodingKey & CaseIterable>(_: K.Type) -> Set<String> {
            Set(K.allCases.map { $0.stringValue.lowercased() })
        }
        let names = (type as? any (CodingKey & CaseIterable).Type).map { lowered($0) }
        declared.withLock { $0[ObjectIdentifier(type)] = .some(names) }
        return names
    }
    private static let declared = Mutex<[ObjectIdentifier: Set<String>?]>([:])

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let decoder: Decoder
        /// Members by name (lower-cased where names match case-insensitively).
        let members: [String: JSONValue]
        /// The members' names in document order (as given, not lower-cased; repeated ones kept).
        let order: [String]
        let caseInsensitive: Bool
        var codingPath: [any CodingKey] { decoder.codingPath }
        /// In document order (a `Counts` keeps it).
        var allKeys: [Key] {
            var seen = Set<String>()
            return order.filter { seen.insert($0).inserted }.compactMap(Key.init(stringValue:))
        }

        init(members list: [(String, JSONValue)], decoder: Decoder) throws {
            self.decoder = decoder
            let allowed = decoder.strict ? WireDecoder.declaredNames(Key.self) : nil
            caseInsensitive = allowed != nil
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(list.count)
            /// A member's name in messages (`tags.env`, `subnets[0].name`).
            func field(_ key: String) -> String {
                decoder.codingPath.isEmpty ? key : WireDecoder.name(decoder.codingPath) + "." + key
            }
            if let allowed {
                for (rawKey, value) in list {
                    let lowered = rawKey.lowercased()
                    guard allowed.contains(lowered) else {
                        let key = field(rawKey)
                        throw RequestProblem(code: .unknownField, field: key, message: "unknown field '\(key)'")
                    }
                    guard members.updateValue(value, forKey: lowered) == nil else {
                        let key = field(rawKey)
                        throw RequestProblem(
                            code: .duplicateField, field: key,
                            message: "field '\(key)' appears more than once (names are case-insensitive)")
                    }
                }
            } else {
                for (key, value) in list {
                    guard members[key] == nil else {
                        guard decoder.strict else { continue } // the first one, as `JSONValue`'s subscript reads
                        throw RequestProblem(
                            code: .duplicateField, field: field(key),
                            message: "field '\(field(key))' appears more than once")
                    }
                    members[key] = value
                }
            }
            self.members = members
            order = list.map(\.0)
        }

        func value(_ key: Key) -> JSONValue? {
            members[caseInsensitive ? key.stringValue.lowercased() : key.stringValue]
        }

        func contains(_ key: Key) -> Bool {
            guard let value = value(key) else { return false }
            return decoder.strict || value != .null
        }

        func decodeNil(forKey key: Key) throws -> Bool {
            // strict: a null is never "absent"; the typed read refuses it
            decoder.strict ? false : (value(key) ?? .null) == .null
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let value = value(key) else {
                if decoder.strict {
                    let field = WireDecoder.name(codingPath + [key])
                    throw RequestProblem(code: .missingField, field: field, message: "'\(field)' is required")
                }
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return try decoder.child(value, key).decode(type)
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = value(key), decoder.strict || value != .null else { return nil }
            return try decoder.child(value, key).decode(type)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try decoder.child(value(key) ?? .null, key).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try decoder.child(value(key) ?? .null, key).unkeyedContainer()
        }
        func superDecoder() throws -> any Swift.Decoder {
            decoder.child(members["super"] ?? .null, AnyKey(stringValue: "super"))
        }
        func superDecoder(forKey key: Key) throws -> any Swift.Decoder { decoder.child(value(key) ?? .null, key) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let decoder: Decoder
        var currentIndex = 0
        var codingPath: [any CodingKey] { decoder.codingPath }
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        mutating func next() throws -> Decoder {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    Any.self, .init(codingPath: codingPath, debugDescription: "no more items"))
            }
            defer { currentIndex += 1 }
            return decoder.child(items[currentIndex], AnyKey(index: currentIndex))
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null, !decoder.strict else { return false }
            currentIndex += 1
            return true
        }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try next().container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
        mutating func superDecoder() throws -> any Swift.Decoder { try next() }
    }

    struct Single: SingleValueDecodingContainer {
        let decoder: Decoder
        var codingPath: [any CodingKey] { decoder.codingPath }

        func decodeNil() -> Bool { !decoder.strict && decoder.value == .null }
        func decode(_ type: Bool.Type) throws -> Bool {
            guard case .bool(let flag) = decoder.value else { throw decoder.mismatch("true or false") }
            return flag
        }
        func decode(_ type: String.Type) throws -> String {
            guard case .string(let text) = decoder.value else { throw decoder.mismatch("a string") }
            return text
        }
        func decode(_ type: Double.Type) throws -> Double {
            guard case .number(let lexeme) = decoder.value, let number = Double(lexeme) else {
                throw decoder.mismatch("a number")
            }
            return number
        }
        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        /// JSON Schema's integer: any number without a fractional part (21 and 21.0 alike); in strict mode an
        /// out-of-range one is clamped to ±1e9, so the range checks after decoding refuse it.
        func decode(_ type: Int.Type) throws -> Int {
            guard case .number(let lexeme) = decoder.value else { throw decoder.mismatch("an integer") }
            if let number = Int(lexeme) { return number }
            guard let real = Double(lexeme), real.isFinite, real.rounded() == real, decoder.strict else {
                throw decoder.mismatch("an integer")
            }
            return Int(max(-1e9, min(1e9, real)))
        }
        func decode(_ type: Int8.Type) throws -> Int8 { try exactly(decode(Int.self)) }
        func decode(_ type: Int16.Type) throws -> Int16 { try exactly(decode(Int.self)) }
        func decode(_ type: Int32.Type) throws -> Int32 { try exactly(decode(Int.self)) }
        func decode(_ type: Int64.Type) throws -> Int64 { try exactly(decode(Int.self)) }
        func decode(_ type: UInt.Type) throws -> UInt { try exactly(decode(Int.self)) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try exactly(decode(Int.self)) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try exactly(decode(Int.self)) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try exactly(decode(Int.self)) }
        func decode(_ type: UInt64.Type) throws -> UInt64 {
            if case .number(let lexeme) = decoder.value, let number = UInt64(lexeme) { return number }
            return try exactly(decode(Int.self))
        }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }

        func exactly<T: FixedWidthInteger>(_ value: Int) throws -> T {
            guard let exact = T(exactly: value) else { throw decoder.mismatch("an integer in range") }
            return exact
        }
    }

    /// A key of an array item or of `super`.
    struct AnyKey: CodingKey {
        let stringValue: String
        let intValue: Int?
        init(stringValue: String) {
            self.stringValue = stringValue
            intValue = nil
        }
        init(intValue: Int) {
            stringValue = String(intValue)
            self.intValue = intValue
        }
        init(index: Int) { self.init(intValue: index) }
    }
}
