import StrictJSON
import Testing

@Suite("ASCIIFormat: ids and digits without Foundation's formatter")
struct ASCIIFormatTests {
    /// A repeatable generator (SplitMix64).
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// The version-4 UUID as it was written before (16 bytes, then hex with dashes): the oracle.
    static func oracle(using generator: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for half in 0..<2 {
            var word: UInt64 = generator.next()
            for index in 0..<8 {
                bytes[half * 8 + index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text += "-" }
            text += String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }
        return text
    }

    @Test("uuidV4 gives the same text as the byte-wise oracle for the same draws, extremes included")
    func uuidMatchesOracle() {
        var ours = Seeded(state: 42)
        var theirs = Seeded(state: 42)
        for _ in 0..<10_000 {
            #expect(ASCIIFormat.uuidV4(using: &ours) == Self.oracle(using: &theirs))
        }
        struct Constant: RandomNumberGenerator {
            let value: UInt64
            func next() -> UInt64 { value }
        }
        for value: UInt64 in [0, .max, 0x0123_4567_89AB_CDEF] {
            var a = Constant(value: value)
            var b = Constant(value: value)
            #expect(ASCIIFormat.uuidV4(using: &a) == Self.oracle(using: &b))
        }
        var zero = Constant(value: 0)
        #expect(ASCIIFormat.uuidV4(using: &zero) == "00000000-0000-4000-8000-000000000000")
        var ones = Constant(value: .max)
        #expect(ASCIIFormat.uuidV4(using: &ones) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }

    @Test("uuidV4 from the system generator: 36 lowercase characters, version 4, RFC 4122 variant, never repeated")
    func uuidShape() {
        var generator = SystemRandomNumberGenerator()
        var seen = Set<String>()
        for _ in 0..<2_000 {
            let id = ASCIIFormat.uuidV4(using: &generator)
            let bytes = Array(id.utf8)
            #expect(bytes.count == 36)
            for (index, byte) in bytes.enumerated() {
                if [8, 13, 18, 23].contains(index) {
                    #expect(byte == UInt8(ascii: "-"))
                } else {
                    #expect(Array("0123456789abcdef".utf8).contains(byte), "\(id)")
                }
            }
            #expect(bytes[14] == UInt8(ascii: "4"))
            #expect(Array("89ab".utf8).contains(bytes[19]))
            seen.insert(id)
        }
        #expect(seen.count == 2_000)
    }
}
