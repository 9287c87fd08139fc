import PropertyBased
import TableEmulator
import Testing

@Suite("Partition key index (SortedKeys)")
struct SortedKeysTests {
    /// Random inserts and removes, enough to split chunks many times over, against a sorted array.
    @Test func matchesASortedArray() async {
        await propertyCheck(
            count: 20, input: Gen.int(in: 0...40_000).array(of: 0...3_000), Gen.int(in: 0...12_000).array(of: 1...20)
        ) { operations, probes in
            var keys = SortedKeys()
            var reference: [String] = []
            for value in operations {
                let key = Self.key(value / 4)
                let at = Self.insertionPoint(of: key, in: reference)
                let present = at < reference.count && reference[at] == key
                if value % 4 == 3 {
                    #expect(keys.remove(key) == present)
                    if present { reference.remove(at: at) }
                } else {
                    #expect(keys.insert(key) == !present)
                    if !present { reference.insert(key, at: at) }
                }
            }
            #expect(keys.count == reference.count)
            #expect(Array(keys) == reference)
            for probe in probes.map({ Self.key($0) }) {
                // Walking from the lower bound to the end gives exactly the keys not less than the probe.
                var walked: [String] = []
                var position = keys.lowerBound(probe)
                while position < keys.endPosition {
                    walked.append(keys[position])
                    position = keys.position(after: position)
                }
                #expect(walked == reference.filter { !KeyOrder.less($0, probe) })
            }
        }
    }

    /// Where `key` is or would go in the sorted `keys` (binary search: a linear scan made this test take
    /// seconds of CPU, which starved the timing-sensitive tests running beside it).
    static func insertionPoint(of key: String, in keys: [String]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if KeyOrder.less(keys[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Keys of several shapes and lengths (so that byte order and prefix order both matter).
    static func key(_ n: Int) -> String {
        switch n % 3 {
        case 0: return "stock_4_24_\(n)"
        case 1: return "n\(n % 97)_\(n)"
        default: return "session_\(String(n, radix: 16))"
        }
    }
}
