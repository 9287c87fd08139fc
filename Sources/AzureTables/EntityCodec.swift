package import AzureCore
import Foundation

/// Converts entities to and from the Table service's JSON payload format.
package enum EntityCodec {
    /// JSON object for a request body. Every non-String/Int32/Bool value carries its `@odata.type`;
    /// doubles are annotated too, so whole-number doubles stay doubles.
    package static func encode(_ entity: TableEntity, includeKeys: Bool = true) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if includeKeys {
            members.append(("PartitionKey", .string(entity.partitionKey)))
            members.append(("RowKey", .string(entity.rowKey)))
        }
        for name in entity.properties.keys.sorted() {
            members.append(contentsOf: encodeProperty(name: name, value: entity.properties[name]!))
        }
        return .object(members)
    }

    /// The JSON members for one property (value, and its type annotation when needed).
    package static func encodeProperty(name: String, value: TableValue) -> [(String, JSONValue)] {
        switch value {
        case .string(let v): return [(name, .string(v))]
        case .int32(let v): return [(name, .number(String(v)))]
        case .bool(let v): return [(name, .bool(v))]
        case .int64(let v): return [("\(name)@odata.type", .string("Edm.Int64")), (name, .string(String(v)))]
        case .double(let v):
            if v.isNaN { return [("\(name)@odata.type", .string("Edm.Double")), (name, .string("NaN"))] }
            if v.isInfinite {
                return [
                    ("\(name)@odata.type", .string("Edm.Double")), (name, .string(v > 0 ? "Infinity" : "-Infinity")),
                ]
            }
            var text = "\(v)"
            if !text.utf8.contains(UInt8(ascii: ".")) && !text.utf8.contains(UInt8(ascii: "e")) { text += ".0" }
            return [("\(name)@odata.type", .string("Edm.Double")), (name, .number(text))]
        case .dateTime(let v):
            return [("\(name)@odata.type", .string("Edm.DateTime")), (name, .string(EdmDateTime.format(v)))]
        case .guid(let v):
            return [("\(name)@odata.type", .string("Edm.Guid")), (name, .string(v.uuidString.lowercased()))]
        case .binary(let v):
            return [("\(name)@odata.type", .string("Edm.Binary")), (name, .string(Data(v).base64EncodedString()))]
        }
    }

    /// A payload problem, naming the property.
    package struct DecodeError: Error, Sendable, CustomStringConvertible {
        package let property: String
        package let reason: String
        package var description: String { "property '\(property)': \(reason)" }
    }

    /// Decodes an entity object (from a request or a response). `odata.*` members are read for the
    /// ETag and otherwise ignored; `Timestamp` becomes `timestamp`.
    package static func decode(_ object: JSONValue, requireKeys: Bool = true) throws -> TableEntity {
        guard let members = object.objectValue else {
            throw DecodeError(property: "", reason: "entity is not a JSON object")
        }
        var annotations: [String: String] = [:]
        for (key, value) in members where key.hasSuffix("@odata.type") {
            guard let type = value.stringValue else {
                throw DecodeError(property: key, reason: "type annotation must be a string")
            }
            annotations[String(key.dropLast("@odata.type".count))] = type
        }
        var entity = TableEntity(partitionKey: "", rowKey: "")
        var sawPartitionKey = false
        var sawRowKey = false
        for (key, value) in members {
            if key.hasPrefix("odata.") {
                if key == "odata.etag" { entity.etag = value.stringValue }
                continue
            }
            if key.utf8.contains(UInt8(ascii: "@")) { continue }
            switch key {
            case "PartitionKey":
                guard let v = value.stringValue else { throw DecodeError(property: key, reason: "must be a string") }
                entity.partitionKey = v
                sawPartitionKey = true
            case "RowKey":
                guard let v = value.stringValue else { throw DecodeError(property: key, reason: "must be a string") }
                entity.rowKey = v
                sawRowKey = true
            case "Timestamp":
                if let text = value.stringValue { entity.timestamp = EdmDateTime.parse(text) }
            default:
                if case .null = value { continue }
                entity.properties[key] = try decodeValue(value, type: annotations[key], name: key)
            }
        }
        if requireKeys && !(sawPartitionKey && sawRowKey) {
            throw DecodeError(property: sawPartitionKey ? "RowKey" : "PartitionKey", reason: "missing")
        }
        return entity
    }

    static func decodeValue(_ value: JSONValue, type: String?, name: String) throws -> TableValue {
        func text() throws -> String {
            guard let s = value.stringValue else {
                throw DecodeError(property: name, reason: "\(type ?? "") value must be a string")
            }
            return s
        }
        switch type {
        case nil, "Edm.String"?:
            switch value {
            case .string(let s): return .string(s)
            case .bool(let b) where type == nil: return .bool(b)
            case .number(let n) where type == nil:
                if !n.utf8.contains(UInt8(ascii: ".")), !n.utf8.contains(UInt8(ascii: "e")),
                    !n.utf8.contains(UInt8(ascii: "E")), let v = Int32(n)
                {
                    return .int32(v)
                }
                if let v = Double(n) { return .double(v) }
                throw DecodeError(property: name, reason: "number out of range")
            default: throw DecodeError(property: name, reason: "unsupported JSON value")
            }
        case "Edm.Int32"?:
            if case .number(let n) = value, let v = Int32(n) { return .int32(v) }
            throw DecodeError(property: name, reason: "not a valid Edm.Int32")
        case "Edm.Int64"?:
            if case .number(let n) = value, let v = Int64(n) { return .int64(v) }
            guard let v = Int64(try text()) else { throw DecodeError(property: name, reason: "not a valid Edm.Int64") }
            return .int64(v)
        case "Edm.Double"?:
            if case .number(let n) = value, let v = Double(n) { return .double(v) }
            let s = try text()
            switch s {
            case "NaN": return .double(.nan)
            case "Infinity", "INF": return .double(.infinity)
            case "-Infinity", "-INF": return .double(-.infinity)
            default:
                guard let v = Double(s) else { throw DecodeError(property: name, reason: "not a valid Edm.Double") }
                return .double(v)
            }
        case "Edm.Boolean"?:
            if case .bool(let b) = value { return .bool(b) }
            throw DecodeError(property: name, reason: "not a valid Edm.Boolean")
        case "Edm.DateTime"?:
            guard let d = EdmDateTime.parse(try text()) else {
                throw DecodeError(property: name, reason: "not a valid Edm.DateTime")
            }
            return .dateTime(d)
        case "Edm.Guid"?:
            guard let g = UUID(uuidString: try text()) else {
                throw DecodeError(property: name, reason: "not a valid Edm.Guid")
            }
            return .guid(g)
        case "Edm.Binary"?:
            guard let b = Data(base64Encoded: try text()) else {
                throw DecodeError(property: name, reason: "not valid base64 Edm.Binary")
            }
            return .binary(Array(b))
        case let other?:
            throw DecodeError(property: name, reason: "unknown type '\(other)'")
        }
    }
}
