import FoundationEssentials
import MCP
import StrictJSON

/// Between the MCP SDK's `Value` and the API's `JSONValue` (numbers keep their text through the bridge
/// where they can: integers as `int`, others as `double`).
enum JSONBridge {
    static func value(_ json: JSONValue) -> Value {
        switch json {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .number(let text): return Int(text).map(Value.int) ?? Double(text).map(Value.double) ?? .string(text)
        case .string(let text): return .string(text)
        case .array(let items): return .array(items.map(value))
        case .object(let members):
            return .object(Dictionary(members.map { ($0.0, value($0.1)) }, uniquingKeysWith: { _, last in last }))
        }
    }

    static func json(_ value: Value) -> JSONValue {
        switch value {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .int(let number): return .number(String(number))
        case .double(let number):
            return number.rounded() == number && abs(number) < 1e15
                ? .number(String(Int(number))) : .number(String(number))
        case .string(let text): return .string(text)
        case .data(_, let data): return .string(data.base64EncodedString())
        case .array(let items): return .array(items.map(json))
        case .object(let members): return .object(members.keys.sorted().map { ($0, json(members[$0]!)) })
        }
    }
}
