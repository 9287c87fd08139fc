/// The row keys of one partition in key order (`KeyOrder`), kept as a list of short sorted chunks.
///
/// Inserting or removing a key moves the elements of one chunk, not of the whole partition: as one
/// sorted array, every write to a 50,000-row partition (a scope's, say) moved hundreds of kilobytes.
package struct SortedKeys: Sequence, Sendable {
    /// A chunk is split in two when it grows past this many keys.
    package static let chunkLimit = 512

    private var chunks: [[String]] = []
    package private(set) var count = 0

    package init() {}

    /// Where a key is (or would be), in key order: chunk, then offset within it.
    package struct Position: Comparable, Sendable {
        var chunk: Int
        var offset: Int
        package static func < (a: Position, b: Position) -> Bool { (a.chunk, a.offset) < (b.chunk, b.offset) }
    }

    package var startPosition: Position { Position(chunk: 0, offset: 0) }
    /// Past the last key (equal to `startPosition` when empty).
    package var endPosition: Position { Position(chunk: chunks.count, offset: 0) }

    package subscript(position: Position) -> String { chunks[position.chunk][position.offset] }

    package func position(after position: Position) -> Position {
        position.offset + 1 < chunks[position.chunk].count
            ? Position(chunk: position.chunk, offset: position.offset + 1)
            : Position(chunk: position.chunk + 1, offset: 0)
    }

    /// The first position whose key is not less than `key` (`endPosition` when there is none).
    package func lowerBound(_ key: String) -> Position {
        let chunk = chunkIndex(for: key)
        guard chunk < chunks.count else { return endPosition }
        return Position(chunk: chunk, offset: Self.lowerBound(chunks[chunk], key))
    }

    /// Adds `key`; false when it was there already.
    @discardableResult
    package mutating func insert(_ key: String) -> Bool {
        guard !chunks.isEmpty else {
            chunks = [[key]]
            count = 1
            return true
        }
        // The first chunk whose last key is not less than `key`, or the last chunk (appending).
        let chunk = Swift.min(chunkIndex(for: key), chunks.count - 1)
        let offset = Self.lowerBound(chunks[chunk], key)
        if offset < chunks[chunk].count, chunks[chunk][offset] == key { return false }
        chunks[chunk].insert(key, at: offset)
        count += 1
        if chunks[chunk].count > Self.chunkLimit {
            let half = chunks[chunk].count / 2
            let upper = Array(chunks[chunk][half..<chunks[chunk].count])
            chunks[chunk].removeSubrange(half..<chunks[chunk].count)
            chunks.insert(upper, at: chunk + 1)
        }
        return true
    }

    /// Removes `key`; false when it was not there.
    @discardableResult
    package mutating func remove(_ key: String) -> Bool {
        let position = lowerBound(key)
        guard position < endPosition, self[position] == key else { return false }
        chunks[position.chunk].remove(at: position.offset)
        if chunks[position.chunk].isEmpty { chunks.remove(at: position.chunk) }
        count -= 1
        return true
    }

    package func makeIterator() -> FlattenSequence<[[String]]>.Iterator { chunks.joined().makeIterator() }

    /// The first chunk whose last key is not less than `key` (`chunks.count` when every key is less).
    private func chunkIndex(for key: String) -> Int {
        var low = 0
        var high = chunks.count
        while low < high {
            let middle = (low + high) / 2
            if KeyOrder.less(chunks[middle][chunks[middle].count - 1], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    static func lowerBound(_ keys: [String], _ key: String) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if KeyOrder.less(keys[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
