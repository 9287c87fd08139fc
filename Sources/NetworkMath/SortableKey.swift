/// The sortable text form of a prefix used in table keys: RowKey order equals address order.
///
/// IPv4: zero-padded dotted quad and length, `010.064.004.000_22`. IPv6: 32 hex digits and a
/// zero-padded length, `fd000072000000000000000000000000_044`.
package enum SortableKey {
    package static func make(_ prefix: IPPrefix) -> String {
        switch prefix.version {
        case .v4:
            let v = UInt32(prefix.address.value)
            func three(_ n: UInt32) -> String { n < 10 ? "00\(n)" : (n < 100 ? "0\(n)" : "\(n)") }
            let length = prefix.length < 10 ? "0\(prefix.length)" : "\(prefix.length)"
            return "\(three(v >> 24)).\(three(v >> 16 & 0xFF)).\(three(v >> 8 & 0xFF)).\(three(v & 0xFF))_\(length)"
        case .v6:
            var hex = String(prefix.address.value, radix: 16)
            hex = String(repeating: "0", count: 32 - hex.count) + hex
            let length = String(prefix.length)
            return hex + "_" + String(repeating: "0", count: 3 - length.count) + length
        }
    }

    /// Parses a key made by `make`.
    package static func parse(_ key: String) -> IPPrefix? {
        let parts = key.split(separator: "_")
        guard parts.count == 2, let length = Int(parts[1]) else { return nil }
        if parts[0].utf8.contains(UInt8(ascii: ".")) {
            let octets = parts[0].split(separator: ".")
            guard octets.count == 4, parts[1].count == 2 else { return nil }
            var value: UInt32 = 0
            for octet in octets {
                guard octet.count == 3, let n = UInt32(octet), n <= 255 else { return nil }
                value = value << 8 | n
            }
            return IPPrefix(address: IPAddress(v4: value), length: length)
        }
        guard parts[0].count == 32, parts[1].count == 3, let value = UInt128(parts[0], radix: 16) else { return nil }
        return IPPrefix(address: IPAddress(version: .v6, value: value), length: length)
    }
}
