/// Free-space computation and smallest-fit search over a supernet with occupied blocks.
package enum FreeSpace {
    /// The maximal aligned free blocks of `supernet` that overlap none of `occupied`, in address order.
    package static func freeBlocks(in supernet: IPPrefix, occupied: [IPPrefix]) -> [IPPrefix] {
        freeBlocks(in: supernet, sortedOccupied: occupied.filter { $0.overlaps(supernet) }.sorted())
    }

    /// `freeBlocks(in:occupied:)` for an `occupied` already in ascending order (as `IPPrefix` sorts):
    /// finds what lies in `supernet` by binary search, without copying or sorting the whole set, so a
    /// caller that keeps every prefix of a big scope sorted pays per carve for the supernet's part only.
    package static func freeBlocks(in supernet: IPPrefix, sortedOccupied occupied: [IPPrefix]) -> [IPPrefix] {
        // A prefix containing the supernet is one of its ancestors (or itself): look each one up.
        for length in 0...supernet.length {
            let ancestor = IPPrefix(
                address: IPAddress(
                    version: supernet.version,
                    value: supernet.address.value & ~IPPrefix.hostMask(supernet.version, length)),
                length: length)!
            let at = occupied.partitionIndex { $0 < ancestor }
            if at < occupied.count, occupied[at] == ancestor { return [] }
        }
        // Everything else overlapping the supernet lies inside it: from (its address, its length) on,
        // up to the first address past its end.
        let low = occupied.partitionIndex { $0 < supernet }
        let high = occupied[low...].partitionIndex { $0.address <= supernet.last }
        var result: [IPPrefix] = []
        collect(supernet, occupied[low..<high], into: &result)
        return result
    }

    /// `occupied` is sorted and every element overlaps `block`.
    ///
    /// Works on index ranges of the one sorted array: no copies per level.
    private static func collect(_ block: IPPrefix, _ occupied: ArraySlice<IPPrefix>, into result: inout [IPPrefix]) {
        guard let first = occupied.first else {
            result.append(block)
            return
        }
        // Elements overlapping `block` either contain it or lie inside it. One that contains it has the
        // lowest address (or the same address and a shorter length), so in sorted order it comes first.
        if first.length <= block.length { return }
        guard let (low, high) = block.halves else { return }
        // Everything left lies strictly inside `block`, so in exactly one half: the high half's elements
        // are those from the first address at or above its start.
        let split = occupied.partitionIndex { $0.address < high.address }
        collect(low, occupied[..<split], into: &result)
        collect(high, occupied[split...], into: &result)
    }

    /// A block of `length` inside the smallest free block that can hold it (lowest address among
    /// equals), across `supernets`, overlapping nothing in `occupied`. Nil when nothing fits.
    ///
    /// Taking from the smallest hole keeps large holes whole for large requests (less fragmentation).
    package static func smallestFit(length: Int, in supernets: [IPPrefix], occupied: [IPPrefix]) -> IPPrefix? {
        var best: IPPrefix? = nil
        for supernet in supernets where length >= supernet.length && length <= supernet.version.bitWidth {
            for block in freeBlocks(in: supernet, occupied: occupied) where block.length <= length {
                if let current = best,
                    current.length > block.length
                        || (current.length == block.length && current.address <= block.address)
                {
                    continue
                }
                best = block
            }
        }
        guard let best else { return nil }
        return IPPrefix(address: best.address, length: length)
    }

    /// Up to `count` blocks of `length`, each as `smallestFit` would choose it given the ones before:
    /// free space is computed once, so carving many blocks costs one pass over `occupied`.
    package static func carve(count: Int, length: Int, in supernets: [IPPrefix], occupied: [IPPrefix]) -> [IPPrefix] {
        carve(count: count, length: length, in: supernets, sortedOccupied: occupied.sorted())
    }

    /// `carve(count:length:in:occupied:)` for an `occupied` already in ascending order.
    package static func carve(count: Int, length: Int, in supernets: [IPPrefix], sortedOccupied occupied: [IPPrefix])
        -> [IPPrefix]
    {
        var holes: [IPPrefix] = []
        for supernet in supernets where length >= supernet.length && length <= supernet.version.bitWidth {
            holes += freeBlocks(in: supernet, sortedOccupied: occupied).filter { $0.length <= length }
        }
        var result: [IPPrefix] = []
        while result.count < count {
            // The smallest hole (longest prefix), lowest address first.
            guard
                let index = holes.indices.min(by: {
                    (holes[$1].length, holes[$0].address) < (holes[$0].length, holes[$1].address)
                })
            else { break }
            let hole = holes.remove(at: index)
            result.append(IPPrefix(address: hole.address, length: length)!)
            // What is left of the hole after its first `length` block: its buddies at every level below.
            var block = hole
            while block.length < length, let (low, high) = block.halves {
                holes.append(high)
                block = low
            }
        }
        return result
    }

    /// Total free addresses of the given blocks (saturating).
    package static func addressCount(_ blocks: [IPPrefix]) -> UInt128 {
        blocks.reduce(UInt128(0)) { total, block in
            let (sum, overflow) = total.addingReportingOverflow(block.size)
            return overflow ? UInt128.max : sum
        }
    }

    /// Lays `subnets` (name, prefix length) out inside `block` without overlap: largest first,
    /// each aligned, in request order among equals. Nil when they do not fit.
    package static func layout(_ subnets: [(name: String, length: Int)], in block: IPPrefix) -> [(
        name: String, prefix: IPPrefix
    )]? {
        var placed: [(name: String, prefix: IPPrefix)] = []
        let order = subnets.enumerated().sorted { ($0.element.length, $0.offset) < ($1.element.length, $1.offset) }
        for (_, subnet) in order {
            guard let fit = smallestFit(length: subnet.length, in: [block], occupied: placed.map(\.prefix)) else {
                return nil
            }
            placed.append((subnet.name, fit))
        }
        return subnets.map { wanted in placed.first { $0.name == wanted.name }! }
    }
}
