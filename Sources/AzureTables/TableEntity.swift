import AzureCore
package import Foundation
import StrictJSON

/// A typed Table property value (the Edm types of the Table service).
package enum TableValue: Sendable, Equatable, CustomStringConvertible {
    case string(String)
    case int32(Int32)
    /// Sent as `Edm.Int64` (a JSON string with a type annotation).
    case int64(Int64)
    case double(Double)
    case bool(Bool)
    /// UTC, 100 ns resolution on the wire.
    case dateTime(Date)
    case guid(UUID)
    case binary([UInt8])

    package var edmType: String {
        switch self {
        case .string: return "Edm.String"
        case .int32: return "Edm.Int32"
        case .int64: return "Edm.Int64"
        case .double: return "Edm.Double"
        case .bool: return "Edm.Boolean"
        case .dateTime: return "Edm.DateTime"
        case .guid: return "Edm.Guid"
        case .binary: return "Edm.Binary"
        }
    }

    package var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }
    /// Int32 or Int64 as Int64.
    package var int64Value: Int64? {
        switch self {
        case .int32(let v): return Int64(v)
        case .int64(let v): return v
        default: return nil
        }
    }
    package var doubleValue: Double? {
        if case .double(let v) = self { return v }
        return nil
    }
    package var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }
    package var dateValue: Date? {
        if case .dateTime(let v) = self { return v }
        return nil
    }

    package var description: String {
        switch self {
        case .string(let v): return v
        case .int32(let v): return String(v)
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .bool(let v): return String(v)
        case .dateTime(let v): return EdmDateTime.format(v)
        case .guid(let v): return v.uuidString.lowercased()
        case .binary(let v): return Data(v).base64EncodedString()
        }
    }
}

/// One entity: keys, custom properties, and the service's ETag and Timestamp when read back.
package struct TableEntity: Sendable, Equatable {
    package var partitionKey: String
    package var rowKey: String
    package var properties: [String: TableValue]
    /// Opaque ETag as the service sent it; send it back byte for byte in `If-Match`.
    package var etag: String?
    package var timestamp: Date?

    package init(
        partitionKey: String, rowKey: String, properties: [String: TableValue] = [:], etag: String? = nil,
        timestamp: Date? = nil
    ) {
        self.partitionKey = partitionKey
        self.rowKey = rowKey
        self.properties = properties
        self.etag = etag
        self.timestamp = timestamp
    }

    package subscript(name: String) -> TableValue? {
        get { properties[name] }
        set { properties[name] = newValue }
    }
}

/// `Edm.DateTime` text: `2013-08-02T17:37:43.9004348Z` (7 fractional digits out, 0–7 accepted in).
package enum EdmDateTime {
    package static func format(_ date: Date) -> String {
        let ticks = (date.timeIntervalSince1970 * 10_000_000).rounded()
        let seconds = Int64((ticks / 10_000_000).rounded(.down))
        let fraction = Int64(ticks) - seconds * 10_000_000
        return ASCIIFormat.utcTimestamp(seconds: seconds, fraction: fraction, fractionDigits: 7)
    }

    package static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            return Int(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let year = number(0..<4), bytes[4] == UInt8(ascii: "-"), let month = number(5..<7),
            bytes[7] == UInt8(ascii: "-"),
            let day = number(8..<10), bytes[10] == UInt8(ascii: "T"), let hour = number(11..<13),
            bytes[13] == UInt8(ascii: ":"),
            let minute = number(14..<16), bytes[16] == UInt8(ascii: ":"), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            guard index > start else { return nil }
            fraction = Double("0." + String(decoding: bytes[start..<index], as: UTF8.self)) ?? 0
        }
        var offset = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "Z") {
            index += 1
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6) else { return nil }
            offset = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
            index += 6
        }
        guard index == bytes.count else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offset) + fraction)
    }
}

/// Key and name rules of the Table service, checked before anything is sent.
package enum TableNames {
    /// `^[A-Za-z][A-Za-z0-9]{2,62}$`, and not the reserved name "tables".
    package static func validateTableName(_ name: String) throws {
        let scalars = Array(name.unicodeScalars)
        let valid =
            (3...63).contains(scalars.count)
            && scalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
            && scalars.first.map { $0.properties.isAlphabetic } == true
            && name.lowercased() != "tables"
        guard valid else {
            throw AzureError.invalidRequest(
                "table name '\(name)' must be 3–63 letters and digits, starting with a letter, and not 'tables'")
        }
    }

    /// The reason a PartitionKey or RowKey is not allowed, or `nil` when it is.
    package static func keyProblem(_ key: String) -> String? {
        if key.utf8.count > 1024 { return "longer than 1 KiB" }
        for scalar in key.unicodeScalars {
            switch scalar.value {
            case 0x2F: return "contains '/'"
            case 0x5C: return "contains '\\'"
            case 0x23: return "contains '#'"
            case 0x3F: return "contains '?'"
            case 0x00...0x1F, 0x7F...0x9F: return "contains a control character"
            default: continue
            }
        }
        return nil
    }

    package static func validateKeys(partitionKey: String, rowKey: String) throws {
        if let problem = keyProblem(partitionKey) { throw AzureError.invalidRequest("PartitionKey \(problem)") }
        if let problem = keyProblem(rowKey) { throw AzureError.invalidRequest("RowKey \(problem)") }
    }
}
