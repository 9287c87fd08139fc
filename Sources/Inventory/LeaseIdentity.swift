package import NetworkMath
internal import StrictJSON

/// Lease ids that name their IPv4 block, so the address history finds a lease's block without a row of its own
/// (docs/Design.md, "Address history").
///
/// Such an id is a version-8 UUID (RFC 9562, the custom layout): its first four bytes are the block's address,
/// the fifth its length, and the other 82 free bits random (taken from a version-4 UUID). So
/// `0a400000-18…-8…` is a lease of 10.64.0.0/24. Every other id (older version-4 ids, the ids of dual-stack and
/// IPv6 leases, ids given by hand) names nothing, and its lease keeps an `hlease_` row.
package enum LeaseIdentity {
    /// The id of a lease of `prefix`, its random bits those of the version-4 UUID `seed`; nil unless `prefix` is
    /// IPv4 and `seed` is a UUID.
    package static func naming(_ prefix: IPPrefix, seed: String) -> String? {
        guard prefix.version == .v4, var bytes = uuidBytes(seed) else { return nil }
        let address = UInt32(truncatingIfNeeded: prefix.address.value)
        for index in 0..<4 { bytes[index] = UInt8(truncatingIfNeeded: address >> (24 - 8 * index)) }
        bytes[4] = UInt8(prefix.length)
        bytes[6] = 0x80 | (bytes[6] & 0x0F) // version 8
        bytes[8] = 0x80 | (bytes[8] & 0x3F) // RFC 9562 variant
        return text(bytes)
    }

    /// The block a lease id names; nil for an id that names none (not a version-8 UUID of this layout, or not a
    /// block: a length past 32, host bits set).
    package static func block(named id: String) -> IPPrefix? {
        guard let bytes = uuidBytes(id), bytes[6] >> 4 == 8, bytes[8] >> 6 == 2, bytes[4] <= 32 else { return nil }
        let address = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return IPPrefix(address: IPAddress(v4: address), length: Int(bytes[4]))
    }

    /// The 16 bytes of a UUID's text (`8-4-4-4-12` hex digits, either case); nil for anything else.
    private static func uuidBytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 36 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var high: UInt8? = nil
        for (index, character) in utf8.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard character == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let digit = ASCIIFormat.hexValue(character) else { return nil }
            if let first = high {
                bytes.append(first << 4 | digit)
                high = nil
            } else {
                high = digit
            }
        }
        return bytes
    }

    private static func text(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            ASCIIFormat.appendHex(byte, to: &out)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
