package import AzureTables
import Foundation

/// An OData `$filter` expression of the Table service, parsed.
///
/// Supports comparisons (`eq ne gt ge lt le`), `and`/`or`/`not`, parentheses, and the typed
/// literals `'string'`, `datetime'…'`, `guid'…'`, `X'…'`/`binary'…'`, `123`, `123L`, `1.5`, `true`.
package indirect enum ODataFilter: Sendable, Equatable {
    case comparison(ComparisonOperator, Operand, Operand)
    case and(ODataFilter, ODataFilter)
    case or(ODataFilter, ODataFilter)
    case not(ODataFilter)
    case constant(Bool)
    /// A bare boolean property (`IsActive`).
    case property(String)

    package enum ComparisonOperator: String, Sendable { case eq, ne, gt, ge, lt, le }

    package enum Operand: Sendable, Equatable {
        case property(String)
        case literal(TableValue)
    }

    package struct ParseError: Error, Sendable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    package static func parse(_ text: String) throws -> ODataFilter {
        var parser = FilterParser(tokens: try FilterLexer.tokenize(text))
        let expression = try parser.parseOr()
        guard parser.atEnd else { throw ParseError(message: "unexpected '\(parser.peekText)' in $filter") }
        return expression
    }

    /// Evaluates against an entity's keys, Timestamp and properties.
    package func matches(_ lookup: (String) -> TableValue?) -> Bool {
        switch self {
        case .constant(let value): return value
        case .property(let name): return lookup(name)?.boolValue ?? false
        case .and(let a, let b): return a.matches(lookup) && b.matches(lookup)
        case .or(let a, let b): return a.matches(lookup) || b.matches(lookup)
        case .not(let a): return !a.matches(lookup)
        case .comparison(let op, let lhs, let rhs):
            func resolve(_ operand: Operand) -> TableValue? {
                switch operand {
                case .property(let name): return lookup(name)
                case .literal(let value): return value
                }
            }
            guard let left = resolve(lhs), let right = resolve(rhs), let order = Self.compare(left, right) else {
                return false
            }
            switch op {
            case .eq: return order == 0
            case .ne: return order != 0
            case .gt: return order > 0
            case .ge: return order >= 0
            case .lt: return order < 0
            case .le: return order <= 0
            }
        }
    }

    /// -1/0/1, or nil when the types cannot be compared (such a comparison matches nothing).
    static func compare(_ a: TableValue, _ b: TableValue) -> Int? {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.string(let x), .string(let y)): return KeyOrder.compare(x, y)
        case (.bool(let x), .bool(let y)): return sign(x ? 1 : 0, y ? 1 : 0)
        case (.dateTime(let x), .dateTime(let y)): return sign(x.timeIntervalSince1970, y.timeIntervalSince1970)
        case (.guid(let x), .guid(let y)): return KeyOrder.compare(x.uuidString, y.uuidString)
        case (.binary(let x), .binary(let y)): return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
        case (.double(let x), .double(let y)): return sign(x, y)
        default:
            if let x = a.int64Value, let y = b.int64Value { return sign(x, y) }
            if let x = a.numeric, let y = b.numeric { return sign(x, y) }
            return nil
        }
    }

    /// Key ranges implied by a top-level chain of `and`s, used to narrow a scan.
    package var keyBounds: KeyBounds {
        var bounds = KeyBounds()
        collectBounds(into: &bounds)
        return bounds
    }

    private func collectBounds(into bounds: inout KeyBounds) {
        switch self {
        case .and(let a, let b):
            a.collectBounds(into: &bounds)
            b.collectBounds(into: &bounds)
        case .comparison(let op, .property(let name), .literal(.string(let value))):
            bounds.apply(name: name, op: op, value: value)
        case .comparison(let op, .literal(.string(let value)), .property(let name)):
            let flipped: ComparisonOperator
            switch op {
            case .gt: flipped = .lt
            case .ge: flipped = .le
            case .lt: flipped = .gt
            case .le: flipped = .ge
            default: flipped = op
            }
            bounds.apply(name: name, op: flipped, value: value)
        default: break
        }
    }
}

/// Inclusive lower / upper limits for PartitionKey and RowKey (advisory: the filter is still applied).
package struct KeyBounds: Sendable {
    package var partitionLow: String?
    package var partitionHigh: String?
    package var rowLow: String?
    package var rowHigh: String?

    /// The single partition the filter pins, if any.
    package var exactPartition: String? {
        if let low = partitionLow, let high = partitionHigh, low == high { return low }
        return nil
    }

    mutating func apply(name: String, op: ODataFilter.ComparisonOperator, value: String) {
        switch (name, op) {
        case ("PartitionKey", .eq):
            partitionLow = value
            partitionHigh = value
        case ("PartitionKey", .ge), ("PartitionKey", .gt): partitionLow = value
        case ("PartitionKey", .le), ("PartitionKey", .lt): partitionHigh = value
        case ("RowKey", .eq):
            rowLow = value
            rowHigh = value
        case ("RowKey", .ge), ("RowKey", .gt): rowLow = value
        case ("RowKey", .le), ("RowKey", .lt): rowHigh = value
        default: break
        }
    }
}

extension TableValue {
    var numeric: Double? {
        switch self {
        case .int32(let v): return Double(v)
        case .int64(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
}

/// Ordinal (UTF-8 byte) order of keys, the order the Table service returns rows in.
package enum KeyOrder {
    package static func compare(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }
    package static func less(_ a: String, _ b: String) -> Bool { compare(a, b) < 0 }
}

enum FilterToken: Equatable {
    case identifier(String)
    case literal(TableValue)
    case open, close
}

enum FilterLexer {
    static func tokenize(_ text: String) throws -> [FilterToken] {
        let chars = Array(text.unicodeScalars)
        var index = 0
        var tokens: [FilterToken] = []
        func quoted() throws -> String {
            // chars[index] is the opening quote
            index += 1
            var value = String.UnicodeScalarView()
            while index < chars.count {
                if chars[index] == "'" {
                    if index + 1 < chars.count, chars[index + 1] == "'" {
                        value.append("'")
                        index += 2
                        continue
                    }
                    index += 1
                    return String(value)
                }
                value.append(chars[index])
                index += 1
            }
            throw ODataFilter.ParseError(message: "unterminated string literal in $filter")
        }
        while index < chars.count {
            let c = chars[index]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                index += 1
                continue
            }
            if c == "(" {
                tokens.append(.open)
                index += 1
                continue
            }
            if c == ")" {
                tokens.append(.close)
                index += 1
                continue
            }
            if c == "'" {
                tokens.append(.literal(.string(try quoted())))
                continue
            }
            if c == "-" || c.properties.numericType != nil || ("0"..."9").contains(c) {
                let start = index
                index += 1
                while index < chars.count,
                    ("0"..."9").contains(chars[index]) || chars[index] == "." || chars[index] == "e"
                        || chars[index] == "E"
                        || ((chars[index] == "+" || chars[index] == "-")
                            && (chars[index - 1] == "e" || chars[index - 1] == "E"))
                {
                    index += 1
                }
                var lexeme = String(String.UnicodeScalarView(chars[start..<index]))
                if index < chars.count, chars[index] == "L" || chars[index] == "l" {
                    index += 1
                    guard let v = Int64(lexeme) else {
                        throw ODataFilter.ParseError(message: "invalid Int64 literal '\(lexeme)L'")
                    }
                    tokens.append(.literal(.int64(v)))
                    continue
                }
                if index < chars.count,
                    chars[index] == "d" || chars[index] == "D" || chars[index] == "m" || chars[index] == "M"
                        || chars[index] == "f"
                {
                    index += 1
                    lexeme += ".0"
                }
                if !lexeme.utf8.contains(UInt8(ascii: ".")), !lexeme.utf8.contains(UInt8(ascii: "e")),
                    !lexeme.utf8.contains(UInt8(ascii: "E"))
                {
                    if let v = Int32(lexeme) {
                        tokens.append(.literal(.int32(v)))
                        continue
                    }
                    if let v = Int64(lexeme) {
                        tokens.append(.literal(.int64(v)))
                        continue
                    }
                }
                guard let v = Double(lexeme) else {
                    throw ODataFilter.ParseError(message: "invalid number '\(lexeme)' in $filter")
                }
                tokens.append(.literal(.double(v)))
                continue
            }
            if c.properties.isAlphabetic || c == "_" {
                let start = index
                while index < chars.count,
                    chars[index].properties.isAlphabetic || ("0"..."9").contains(chars[index]) || chars[index] == "_"
                {
                    index += 1
                }
                let word = String(String.UnicodeScalarView(chars[start..<index]))
                if index < chars.count, chars[index] == "'" {
                    let body = try quoted()
                    switch word.lowercased() {
                    case "datetime":
                        guard let date = EdmDateTime.parse(body) else {
                            throw ODataFilter.ParseError(message: "invalid datetime literal '\(body)'")
                        }
                        tokens.append(.literal(.dateTime(date)))
                    case "guid":
                        guard let guid = UUID(uuidString: body) else {
                            throw ODataFilter.ParseError(message: "invalid guid literal '\(body)'")
                        }
                        tokens.append(.literal(.guid(guid)))
                    case "x", "binary":
                        guard body.count % 2 == 0 else {
                            throw ODataFilter.ParseError(message: "invalid binary literal '\(body)'")
                        }
                        var bytes: [UInt8] = []
                        var position = body.startIndex
                        while position < body.endIndex {
                            let next = body.index(position, offsetBy: 2)
                            guard let byte = UInt8(body[position..<next], radix: 16) else {
                                throw ODataFilter.ParseError(message: "invalid binary literal '\(body)'")
                            }
                            bytes.append(byte)
                            position = next
                        }
                        tokens.append(.literal(.binary(bytes)))
                    default:
                        throw ODataFilter.ParseError(message: "unknown literal prefix '\(word)' in $filter")
                    }
                    continue
                }
                switch word {
                case "true": tokens.append(.literal(.bool(true)))
                case "false": tokens.append(.literal(.bool(false)))
                default: tokens.append(.identifier(word))
                }
                continue
            }
            throw ODataFilter.ParseError(message: "unexpected character '\(c)' in $filter")
        }
        return tokens
    }
}

struct FilterParser {
    let tokens: [FilterToken]
    var index = 0
    /// Parentheses and `not`s open around the current token: each is a level of recursion here and in `matches`.
    var depth = 0
    /// `and`s and `or`s so far: each adds a level to the tree `matches`, `keyBounds` and deinit walk recursively.
    var operators = 0
    /// Bounds that keep every recursion over a filter far from the stack's end (a request's URL could otherwise
    /// nest tens of thousands of levels); the service itself allows no more than 15 comparisons.
    static let maximumDepth = 32
    static let maximumOperators = 512

    var atEnd: Bool { index >= tokens.count }
    var peekText: String {
        guard index < tokens.count else { return "end" }
        switch tokens[index] {
        case .identifier(let s): return s
        case .literal(let v): return v.description
        case .open: return "("
        case .close: return ")"
        }
    }

    func isKeyword(_ word: String) -> Bool {
        if index < tokens.count, case .identifier(let s) = tokens[index], s == word { return true }
        return false
    }

    mutating func parseOr() throws -> ODataFilter {
        var left = try parseAnd()
        while isKeyword("or") {
            try countOperator()
            left = .or(left, try parseAnd())
        }
        return left
    }

    mutating func parseAnd() throws -> ODataFilter {
        var left = try parseUnary()
        while isKeyword("and") {
            try countOperator()
            left = .and(left, try parseUnary())
        }
        return left
    }

    mutating func countOperator() throws {
        index += 1
        operators += 1
        guard operators <= Self.maximumOperators else {
            throw ODataFilter.ParseError(
                message: "the $filter has more than \(Self.maximumOperators) 'and'/'or' operators")
        }
    }

    /// Parses what `body` does one level deeper (inside parentheses or a `not`).
    mutating func nested(_ body: (inout FilterParser) throws -> ODataFilter) throws -> ODataFilter {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ODataFilter.ParseError(
                message: "the $filter nests parentheses and 'not' more than \(Self.maximumDepth) levels deep")
        }
        return try body(&self)
    }

    mutating func parseUnary() throws -> ODataFilter {
        if isKeyword("not") {
            index += 1
            return .not(try nested { try $0.parseUnary() })
        }
        return try parsePrimary()
    }

    mutating func parseOperand() throws -> ODataFilter.Operand {
        guard index < tokens.count else { throw ODataFilter.ParseError(message: "incomplete $filter") }
        switch tokens[index] {
        case .identifier(let name):
            index += 1
            return .property(name)
        case .literal(let value):
            index += 1
            return .literal(value)
        default:
            throw ODataFilter.ParseError(message: "expected a property or a literal, found '\(peekText)'")
        }
    }

    mutating func parsePrimary() throws -> ODataFilter {
        guard index < tokens.count else { throw ODataFilter.ParseError(message: "incomplete $filter") }
        if tokens[index] == .open {
            index += 1
            let inner = try nested { try $0.parseOr() }
            guard index < tokens.count, tokens[index] == .close else {
                throw ODataFilter.ParseError(message: "missing ')' in $filter")
            }
            index += 1
            return inner
        }
        let left = try parseOperand()
        if index < tokens.count, case .identifier(let word) = tokens[index],
            let op = ODataFilter.ComparisonOperator(rawValue: word)
        {
            index += 1
            let right = try parseOperand()
            return .comparison(op, left, right)
        }
        switch left {
        case .literal(.bool(let value)): return .constant(value)
        case .property(let name): return .property(name)
        default: throw ODataFilter.ParseError(message: "expected a comparison operator after '\(left)'")
        }
    }
}
