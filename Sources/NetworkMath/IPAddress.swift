/// IP version of an address or prefix.
package enum IPVersion: Int, Sendable, Hashable, Comparable, Codable {
    case v4 = 4
    case v6 = 6

    /// Address width in bits.
    package var bitWidth: Int { self == .v4 ? 32 : 128 }

    package static func < (lhs: IPVersion, rhs: IPVersion) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv4 or IPv6 address, as an unsigned integer of the version's width.
package struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let version: IPVersion
    /// The address bits (IPv4 uses the low 32).
    package let value: UInt128

    package init(version: IPVersion, value: UInt128) {
        precondition(version == .v6 || value <= UInt128(UInt32.max), "IPv4 value out of range")
        self.version = version
        self.value = value
    }

    package init(v4 value: UInt32) { self.init(version: .v4, value: UInt128(value)) }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with `::`; no zone, no embedded IPv4).
    package init?(_ text: String) {
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let value = Self.parseV6(text) else { return nil }
            self.init(version: .v6, value: value)
        } else {
            guard let value = Self.parseV4(text) else { return nil }
            self.init(v4: value)
        }
    }

    static func parseV4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            // Leading zeros are refused: "010" is octal to some parsers.
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), part.count == 1 || part.first != "0",
                let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseV6(_ text: String) -> UInt128? {
        let chars = Array(text)
        var halves: [String] = []
        var start = 0
        var index = 0
        while index < chars.count {
            if chars[index] == ":", index + 1 < chars.count, chars[index + 1] == ":" {
                halves.append(String(chars[start..<index]))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        halves.append(String(chars[start..<chars.count]))
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for group in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit), let v = UInt16(group, radix: 16)
                else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// Canonical text: dotted quad, or RFC 5952 (lowercase, longest zero run compressed).
    package var description: String {
        switch version {
        case .v4:
            let v = UInt32(value)
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        case .v6:
            let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (112 - 16 * $0)) }
            var bestStart = -1
            var bestLength = 0
            var index = 0
            while index < 8 {
                if groups[index] == 0 {
                    var end = index
                    while end < 8 && groups[end] == 0 { end += 1 }
                    if end - index > bestLength && end - index >= 2 {
                        bestStart = index
                        bestLength = end - index
                    }
                    index = end
                } else {
                    index += 1
                }
            }
            func hex(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            if bestStart < 0 { return hex(0..<8) }
            return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
        }
    }

    package static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.version, lhs.value) < (rhs.version, rhs.value)
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
