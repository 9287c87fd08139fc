/// A network prefix (CIDR block) with no host bits set, e.g. `10.64.4.0/22` or `fd00:72::/44`.
package struct IPPrefix: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The network address (host bits are zero).
    package let address: IPAddress
    package let length: Int

    package var version: IPVersion { address.version }

    /// Why a text is not a prefix.
    package struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        package let text: String
        package let reason: String
        package var description: String { "'\(text)' is not a valid CIDR prefix: \(reason)" }
    }

    /// A prefix from its network address; `address` must have no host bits.
    package init?(address: IPAddress, length: Int) {
        guard (0...address.version.bitWidth).contains(length),
            address.value & Self.hostMask(address.version, length) == 0
        else { return nil }
        self.address = address
        self.length = length
    }

    /// Parses `a.b.c.d/n` or `x::/n` strictly: host bits set is an error that names the normalised prefix.
    package init(parsing text: String) throws {
        let (prefix, normalised) = try Self.parseNormalising(text)
        guard !normalised else {
            throw ParseError(text: text, reason: "host bits are set (did you mean \(prefix)?)")
        }
        self = prefix
    }

    /// Parses and clears host bits, reporting whether any were set.
    package static func parseNormalising(_ text: String) throws -> (prefix: IPPrefix, hadHostBits: Bool) {
        let trimmed = text.trimmingWhitespace()
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw ParseError(text: text, reason: "expected ADDRESS/LENGTH") }
        guard let address = IPAddress(String(parts[0])) else { throw ParseError(text: text, reason: "invalid address") }
        guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit), parts[1].count <= 3, let length = Int(parts[1]),
            length <= address.version.bitWidth
        else {
            throw ParseError(text: text, reason: "prefix length must be 0–\(address.version.bitWidth)")
        }
        let mask = hostMask(address.version, length)
        let network = IPAddress(version: address.version, value: address.value & ~mask)
        return (IPPrefix(address: network, length: length)!, address.value & mask != 0)
    }

    /// The block of `length` that contains `address` (its host bits cleared); nil for a length the version lacks.
    package static func enclosing(_ address: IPAddress, length: Int) -> IPPrefix? {
        guard (0...address.version.bitWidth).contains(length) else { return nil }
        return IPPrefix(
            address: IPAddress(version: address.version, value: address.value & ~hostMask(address.version, length)),
            length: length)
    }

    static func hostMask(_ version: IPVersion, _ length: Int) -> UInt128 {
        let width = version.bitWidth
        let hostBits = width - length
        if hostBits <= 0 { return 0 }
        if hostBits >= 128 { return UInt128.max }
        return (UInt128(1) << hostBits) - 1
    }

    /// Host bits of this prefix, as a mask.
    package var hostMask: UInt128 { Self.hostMask(version, length) }
    package var first: IPAddress { address }
    package var last: IPAddress { IPAddress(version: version, value: address.value | hostMask) }
    /// Number of addresses, saturating at `UInt128.max` for `::/0`.
    package var size: UInt128 { hostMask == UInt128.max ? UInt128.max : hostMask + 1 }

    package func contains(_ other: IPPrefix) -> Bool {
        other.version == version && other.length >= length && other.address.value & ~hostMask == address.value
    }

    package func contains(_ address: IPAddress) -> Bool {
        address.version == version && address.value & ~hostMask == self.address.value
    }

    /// True when the two blocks share at least one address.
    package func overlaps(_ other: IPPrefix) -> Bool { contains(other) || other.contains(self) }

    /// The two halves, or nil for a host prefix.
    package var halves: (IPPrefix, IPPrefix)? {
        guard length < version.bitWidth else { return nil }
        let half = UInt128(1) << (version.bitWidth - length - 1)
        return (
            IPPrefix(address: address, length: length + 1)!,
            IPPrefix(address: IPAddress(version: version, value: address.value | half), length: length + 1)!
        )
    }

    /// The subnets of `newLength` in address order (lazy: a /8 split into /30s is not materialised).
    package func subnets(ofLength newLength: Int) -> [IPPrefix]? {
        guard newLength >= length, newLength <= version.bitWidth, newLength - length <= 20 else { return nil }
        let step = UInt128(1) << (version.bitWidth - newLength)
        return (0..<(1 << (newLength - length))).map {
            IPPrefix(
                address: IPAddress(version: version, value: address.value + UInt128($0) * step), length: newLength)!
        }
    }

    /// The block of the same length right after this one, or nil at the end of the address space.
    package var next: IPPrefix? {
        let step = hostMask == UInt128.max ? 0 : hostMask + 1
        let limit: UInt128 = version == .v4 ? UInt128(UInt32.max) : UInt128.max
        guard step > 0, address.value <= limit - step + 1, address.value + (step - 1) < limit else { return nil }
        return IPPrefix(address: IPAddress(version: version, value: address.value + step), length: length)
    }

    /// The block of the same length right before this one, or nil at the start.
    package var previous: IPPrefix? {
        let step = hostMask == UInt128.max ? 0 : hostMask + 1
        guard step > 0, address.value >= step else { return nil }
        return IPPrefix(address: IPAddress(version: version, value: address.value - step), length: length)
    }

    package var description: String { "\(address)/\(length)" }

    /// Address order, then shorter (bigger) prefixes first.
    package static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        (lhs.address, lhs.length) < (rhs.address, rhs.length)
    }
}

extension RandomAccessCollection where Element == IPPrefix, Index == Int {
    /// The first index where `isBefore` turns false (the elements partitioned by it): a binary search.
    package func partitionIndex(where isBefore: (IPPrefix) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = low + (high - low) / 2
            if isBefore(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension [IPPrefix] {
    /// Inserts `prefix` where it keeps an ascending array ascending (after any equal element): a binary search and a
    /// move of the elements after it, instead of a pass over the whole array as appending and sorting takes.
    package mutating func insertSorted(_ prefix: IPPrefix) {
        insert(prefix, at: partitionIndex { !(prefix < $0) })
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
