/// Finds the entries whose prefix overlaps a given prefix in O(width + matches · log n), instead of
/// comparing with every entry: overlapping blocks are either ancestors (found by exact look-up of each
/// shorter prefix) or descendants (a contiguous run in address order).
package struct PrefixIndex<Value> {
    /// Where each prefix's run of entries starts in `ordered` (no array per entry: an index holds a scope's rows).
    private var exact: [IPPrefix: Int] = [:]
    private var ordered: [(prefix: IPPrefix, value: Value)]

    package init(_ entries: [(IPPrefix, Value)]) {
        ordered = entries.map { (prefix: $0.0, value: $0.1) }.sorted { $0.prefix < $1.prefix }
        exact.reserveCapacity(ordered.count)
        for index in ordered.indices.reversed() { exact[ordered[index].prefix] = index }
    }

    package var isEmpty: Bool { ordered.isEmpty }

    /// Values of every entry that shares at least one address with `prefix`.
    package func overlapping(_ prefix: IPPrefix) -> [Value] {
        var result: [Value] = []
        // Ancestors (strictly shorter prefixes that contain it).
        for length in 0..<prefix.length {
            let hostBits = prefix.version.bitWidth - length
            let cleared: UInt128 = hostBits >= 128 ? 0 : (prefix.address.value >> hostBits) << hostBits
            if let ancestor = IPPrefix(address: IPAddress(version: prefix.version, value: cleared), length: length),
                var index = exact[ancestor]
            {
                while index < ordered.count, ordered[index].prefix == ancestor {
                    result.append(ordered[index].value)
                    index += 1
                }
            }
        }
        // The prefix itself and its descendants: a run in (address, length) order.
        var low = 0
        var high = ordered.count
        while low < high {
            let mid = (low + high) / 2
            if ordered[mid].prefix < prefix { low = mid + 1 } else { high = mid }
        }
        let last = prefix.last
        var index = low
        while index < ordered.count, ordered[index].prefix.version == prefix.version,
            ordered[index].prefix.address <= last
        {
            result.append(ordered[index].value)
            index += 1
        }
        return result
    }

    package func hasOverlap(_ prefix: IPPrefix) -> Bool { !overlapping(prefix).isEmpty }
}

extension PrefixIndex: Sendable where Value: Sendable {}
