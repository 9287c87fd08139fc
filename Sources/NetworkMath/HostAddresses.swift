/// The host addresses of one subnet that may be handed out, by offset from the subnet's first address.
///
/// Azure reserves five addresses in every subnet: in IPv4 the network address, `.1` (the gateway), `.2` and
/// `.3` (DNS) and the broadcast address; in IPv6 the first four and the last. So offsets 0–3 and the last
/// one are never handed out, in either version.
package struct HostAddresses: Sendable, Equatable {
    package let subnet: IPPrefix
    /// At most this many offsets are ever handed out of one subnet (it bounds the free list a subnet's
    /// state keeps): an IPv6 /64 would otherwise have 2⁶⁴.
    package static let maximumOffsets = 65_536
    /// Offsets Azure reserves at the start of every subnet.
    package static let reservedAtStart = 4

    package init(subnet: IPPrefix) { self.subnet = subnet }

    /// The first offset that may be handed out.
    package var firstUsable: Int { Self.reservedAtStart }

    /// One past the last offset that may be handed out (the last address is reserved too), capped at
    /// `firstUsable + maximumOffsets`. Equal to `firstUsable` for subnets too small to hold any (/31, /32).
    package var endUsable: Int {
        let size = subnet.size
        guard size > UInt128(Self.reservedAtStart + 1) else { return firstUsable }
        let end = size - 1
        return end > UInt128(firstUsable + Self.maximumOffsets) ? firstUsable + Self.maximumOffsets : Int(end)
    }

    /// How many addresses may be handed out.
    package var usableCount: Int { endUsable - firstUsable }

    /// True when `offset` may be handed out.
    package func isUsable(_ offset: Int) -> Bool { offset >= firstUsable && offset < endUsable }

    /// The address at `offset` from the subnet's first address.
    package func address(at offset: Int) -> IPAddress {
        IPAddress(version: subnet.version, value: subnet.address.value + UInt128(offset))
    }

    /// The offset of `address` in the subnet, nil when the subnet does not contain it.
    package func offset(of address: IPAddress) -> Int? {
        guard subnet.contains(address) else { return nil }
        let offset = address.value - subnet.address.value
        return offset <= UInt128(Int.max) ? Int(offset) : nil
    }
}

/// Which host offset of a subnet to hand out next: the lowest never used yet, except that offsets given
/// back are reused last-released-first (LIFO), so a principal that comes back quickly tends to find its
/// old address and a short-lived environment stays dense.
///
/// Pure state (what the storage row of a subnet holds): `next` is the lowest offset never handed out,
/// `free` the offsets given back, the most recent last.
package struct HostAddressPool: Sendable, Equatable {
    package let addresses: HostAddresses
    package private(set) var next: Int
    package private(set) var free: [Int]

    /// A pool as stored: `next` and `free` as read back (clamped to the usable range).
    package init(addresses: HostAddresses, next: Int? = nil, free: [Int] = []) {
        self.addresses = addresses
        self.next = max(next ?? addresses.firstUsable, addresses.firstUsable)
        self.free = free
    }

    /// Takes the next offset (the most recently released, else the lowest never used), nil when full.
    package mutating func allocate() -> Int? {
        if let reused = free.popLast() { return reused }
        guard next < addresses.endUsable else { return nil }
        defer { next += 1 }
        return next
    }

    /// Gives `offset` back. An offset that is not in use (never handed out, reserved, or already free) is
    /// ignored, so a release can never make an address appear twice.
    package mutating func release(_ offset: Int) {
        guard addresses.isUsable(offset), offset < next, !free.contains(offset) else { return }
        free.append(offset)
    }

    /// Offsets currently handed out, given the pool's state alone: every usable offset below `next`
    /// that is not free.
    package var inUse: Set<Int> { Set(addresses.firstUsable..<next).subtracting(free) }

    /// Offsets still available (free ones plus those never used).
    package var remaining: Int { free.count + addresses.endUsable - next }
}
