import NetworkMath
import PropertyBased
import Testing

@Suite("IP addresses and prefixes")
struct PrefixTests {
    @Test(
        "parse and canonical form",
        arguments: [
            ("10.64.0.0/12", "10.64.0.0/12"), ("0.0.0.0/0", "0.0.0.0/0"), ("192.168.1.7/32", "192.168.1.7/32"),
            ("fd00:72::/44", "fd00:72::/44"), ("FD00:0072:0000::/44", "fd00:72::/44"), ("::/0", "::/0"),
            ("2001:db8:0:0:1:0:0:0/128", "2001:db8:0:0:1::/128"), ("2001:db8::1:0:0:1/128", "2001:db8::1:0:0:1/128"),
        ])
    func canonical(text: String, expected: String) throws {
        #expect(try IPPrefix(parsing: text).description == expected)
    }

    @Test(
        "invalid prefixes are refused with a reason",
        arguments: [
            "10.64.0.0", "10.64.0.0/33", "10.64.0/16", "10.064.0.0/16", "256.0.0.0/8", "10.0.0.0/-1", "10.0.0.0/ 8",
            "fd00::72::/44", "fd00:72::/129", "gggg::/16", "", "/24", "10.0.0.0/08x",
        ])
    func invalid(text: String) {
        #expect(throws: IPPrefix.ParseError.self) { _ = try IPPrefix(parsing: text) }
    }

    @Test func hostBitsAreNamed() throws {
        do {
            _ = try IPPrefix(parsing: "10.64.1.0/16")
            Issue.record("host bits must be refused")
        } catch let error as IPPrefix.ParseError {
            #expect(error.description.contains("10.64.0.0/16"))
        }
        let (prefix, normalised) = try IPPrefix.parseNormalising("10.64.1.0/16")
        #expect(prefix.description == "10.64.0.0/16" && normalised)
    }

    @Test func containmentAndOverlap() throws {
        let big = try IPPrefix(parsing: "10.64.0.0/12")
        let inside = try IPPrefix(parsing: "10.70.4.0/22")
        let outside = try IPPrefix(parsing: "10.80.0.0/16")
        let v6 = try IPPrefix(parsing: "fd00::/8")
        #expect(big.contains(inside) && !inside.contains(big))
        #expect(big.overlaps(inside) && inside.overlaps(big))
        #expect(!big.overlaps(outside))
        #expect(!big.overlaps(v6))
        #expect(big.contains(IPAddress("10.79.255.255")!) && !big.contains(IPAddress("10.80.0.0")!))
    }

    @Test func splittingAndNeighbours() throws {
        let block = try IPPrefix(parsing: "10.0.0.0/22")
        #expect(
            block.subnets(ofLength: 24)?.map(\.description) == [
                "10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24",
            ])
        #expect(block.next?.description == "10.0.4.0/22")
        #expect(block.previous?.description == "9.255.252.0/22")
        #expect(try IPPrefix(parsing: "0.0.0.0/22").previous == nil)
        #expect(try IPPrefix(parsing: "255.255.255.0/24").next == nil)
        #expect(try IPPrefix(parsing: "fd00::/16").next?.description == "fd01::/16")
        #expect(try IPPrefix(parsing: "10.0.4.0/22").previous == block)
    }

    @Test func sortableKeys() throws {
        #expect(SortableKey.make(try IPPrefix(parsing: "10.64.4.0/22")) == "010.064.004.000_22")
        #expect(SortableKey.make(try IPPrefix(parsing: "10.0.0.0/8")) == "010.000.000.000_08")
        #expect(SortableKey.make(try IPPrefix(parsing: "fd00:72::/44")) == "fd000072000000000000000000000000_044")
        #expect(SortableKey.parse("010.064.004.000_22") == (try IPPrefix(parsing: "10.64.4.0/22")))
        #expect(SortableKey.parse("010.064.004.001_22") == nil, "host bits")
        #expect(SortableKey.parse("10.64.4.0_22") == nil)
    }

    @Test func smallestFitPrefersTheSmallestHole() throws {
        let supernet = try IPPrefix(parsing: "10.0.0.0/16")
        // Occupy the whole /16 but one /24 hole at 10.0.200.0.
        var occupied = try (0..<128).compactMap { i -> IPPrefix? in
            i == 100 ? nil : try IPPrefix(parsing: "10.0.\(i * 2).0/23")
        }
        occupied.append(try IPPrefix(parsing: "10.0.201.0/24"))
        let free = FreeSpace.freeBlocks(in: supernet, occupied: occupied)
        #expect(free.map(\.description).contains("10.0.200.0/24"))
        let fit = try #require(FreeSpace.smallestFit(length: 24, in: [supernet], occupied: occupied))
        #expect(fit.description == "10.0.200.0/24")
        #expect(
            FreeSpace.smallestFit(length: 23, in: [supernet], occupied: occupied) == nil,
            "only one /24 is free in the /16")
    }

    @Test func exhaustion() throws {
        let supernet = try IPPrefix(parsing: "10.0.0.0/24")
        let quarters = supernet.subnets(ofLength: 26)!
        #expect(FreeSpace.smallestFit(length: 26, in: [supernet], occupied: quarters) == nil)
        #expect(
            FreeSpace.smallestFit(length: 27, in: [supernet], occupied: Array(quarters.dropLast()))?.description
                == "10.0.0.192/27")
        #expect(
            FreeSpace.smallestFit(length: 23, in: [supernet], occupied: []) == nil,
            "a request bigger than the supernet never fits")
    }

    @Test func subnetLayout() throws {
        let block = try IPPrefix(parsing: "10.1.0.0/24")
        let layout = try #require(FreeSpace.layout([("app", 26), ("db", 27), ("gw", 26)], in: block))
        #expect(layout.map(\.name) == ["app", "db", "gw"])
        #expect(layout.map(\.prefix.description) == ["10.1.0.0/26", "10.1.0.128/27", "10.1.0.64/26"])
        #expect(FreeSpace.layout([("a", 25), ("b", 25), ("c", 27)], in: block) == nil)
    }
}

@Suite("Network math properties")
struct NetworkMathProperties {
    static let v4 = Gen.uint32()
    static let length = Gen.int(in: 0...32)

    @Test func parseFormatIsIdentity() async {
        await propertyCheck(count: 500, input: Self.v4, Self.length) { raw, length in
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            let prefix = IPPrefix(address: IPAddress(v4: raw & mask), length: length)!
            #expect((try? IPPrefix(parsing: prefix.description)) == prefix)
            #expect(SortableKey.parse(SortableKey.make(prefix)) == prefix)
        }
        await propertyCheck(count: 300, input: Gen.uint128(), Gen.int(in: 0...128)) { raw, length in
            let prefix = try! IPPrefix.parseNormalising("\(IPAddress(version: .v6, value: raw))/\(length)").prefix
            #expect((try? IPPrefix(parsing: prefix.description)) == prefix)
            #expect(SortableKey.parse(SortableKey.make(prefix)) == prefix)
        }
    }

    @Test func keysSortLikeAddresses() async {
        await propertyCheck(count: 500, input: Self.v4, Self.v4, Gen.int(in: 8...32)) { a, b, length in
            let mask: UInt32 = ~UInt32(0) << (32 - length)
            let x = IPPrefix(address: IPAddress(v4: a & mask), length: length)!
            let y = IPPrefix(address: IPAddress(v4: b & mask), length: length)!
            #expect((SortableKey.make(x) < SortableKey.make(y)) == (x < y))
        }
    }

    @Test("insertSorted keeps an ascending array ascending and holds what appending and sorting would")
    func insertSortedIsAppendAndSort() async {
        let blocks = zip(Gen.uint32(in: 0...0xFF), Gen.int(in: 20...28)).array(of: 0...60)
        await propertyCheck(count: 300, input: blocks, blocks) { existing, added in
            func prefixes(_ raw: [(UInt32, Int)]) -> [IPPrefix] {
                raw.map { try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | $0 << 8))/\($1)").prefix }
            }
            var inserted = prefixes(existing).sorted()
            for prefix in prefixes(added) { inserted.insertSorted(prefix) }
            #expect(inserted == (prefixes(existing) + prefixes(added)).sorted())
        }
    }

    /// Random occupied blocks inside a /16; carving any size never overlaps one, and stays inside.
    @Test func smallestFitNeverReturnsOccupiedSpace() async {
        let blocks = zip(Gen.uint32(in: 0...0xFFFF), Gen.int(in: 18...30)).array(of: 0...40)
        await propertyCheck(count: 300, input: blocks, Gen.int(in: 16...30)) { raw, wanted in
            let supernet = try! IPPrefix(parsing: "10.20.0.0/16")
            let occupied = raw.map { offset, length in
                try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | offset))/\(length)").prefix
            }
            if let fit = FreeSpace.smallestFit(length: wanted, in: [supernet], occupied: occupied) {
                #expect(supernet.contains(fit))
                #expect(fit.length == wanted)
                #expect(!occupied.contains { $0.overlaps(fit) })
            } else {
                // Nothing fits: then no aligned block of that size is free.
                let candidates = supernet.subnets(ofLength: min(wanted, 30)) ?? []
                if wanted <= 30 { #expect(candidates.allSatisfy { c in occupied.contains { $0.overlaps(c) } }) }
            }
        }
    }

    /// Against brute force over every address of a /24: occupied blocks may nest, repeat, contain the
    /// supernet or lie outside it; the free blocks are exactly the free addresses, in order, each maximal.
    @Test func freeBlocksMatchBruteForce() async {
        let blocks = zip(Gen.uint32(in: 0...0x3FF), Gen.int(in: 21...32)).array(of: 0...24)
        await propertyCheck(count: 400, input: blocks) { raw in
            let supernet = try! IPPrefix(parsing: "10.20.1.0/24")
            let occupied = raw.map { offset, length in
                try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | offset))/\(length)").prefix
            }
            let free = FreeSpace.freeBlocks(in: supernet, occupied: occupied)
            let freeAddresses = (UInt32(0)..<256).map { IPAddress(v4: 0x0A14_0100 | $0) }.filter { address in
                !occupied.contains { $0.contains(address) }
            }
            #expect(
                free.flatMap { block in
                    (UInt128(0)..<block.size).map { IPAddress(version: .v4, value: block.address.value + $0) }
                }
                    == freeAddresses)
            for block in free where block.length > supernet.length {
                // Maximal: the block's parent is not free as a whole.
                let parent = IPPrefix(
                    address: IPAddress(version: .v4, value: block.address.value & ~(UInt128(1) << (32 - block.length))),
                    length: block.length - 1)!
                #expect(occupied.contains { $0.overlaps(parent) })
            }
        }
    }

    /// Carving repeatedly fills a supernet with pairwise disjoint blocks.
    @Test func carvingNeverOverlaps() async {
        await propertyCheck(count: 50, input: Gen.int(in: 20...26).array(of: 1...80)) { sizes in
            Self.fillsWithoutOverlap(try! IPPrefix(parsing: "10.0.0.0/18"), sizes: sizes)
        }
    }

    /// Smallest fits of `sizes`, one after another, never overlap, and with the free space left they
    /// account for every address of `supernet`.
    static func fillsWithoutOverlap(_ supernet: IPPrefix, sizes: [Int]) {
        var taken: [IPPrefix] = []
        for size in sizes {
            guard let fit = FreeSpace.smallestFit(length: size, in: [supernet], occupied: taken) else { continue }
            #expect(!taken.contains { $0.overlaps(fit) })
            taken.append(fit)
        }
        let free = FreeSpace.freeBlocks(in: supernet, occupied: taken)
        #expect(FreeSpace.addressCount(free) + FreeSpace.addressCount(taken) == supernet.size)
    }
}

@Suite("Carving many blocks at once")
struct CarveManyTests {
    /// `carve(count:)` returns exactly what repeated `smallestFit` calls would.
    @Test func matchesRepeatedSmallestFit() async {
        let blocks = zip(Gen.uint32(in: 0...0xFFFF), Gen.int(in: 18...30)).array(of: 0...30)
        await propertyCheck(count: 150, input: blocks, Gen.int(in: 18...28), Gen.int(in: 1...40)) {
            raw, length, count in
            let supernet = try! IPPrefix(parsing: "10.20.0.0/16")
            let occupied = raw.map { offset, size in
                try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | offset))/\(size)").prefix
            }
            var expected: [IPPrefix] = []
            while expected.count < count,
                let fit = FreeSpace.smallestFit(length: length, in: [supernet], occupied: occupied + expected)
            {
                expected.append(fit)
            }
            #expect(FreeSpace.carve(count: count, length: length, in: [supernet], occupied: occupied) == expected)
        }
    }

    /// What the Vendor does: exclusions taken out of the supernets first, then a carve over the scope's
    /// prefixes kept sorted, equals a carve over prefixes and exclusions together (with containers, IPv6
    /// rows and rows outside the supernet mixed in).
    @Test func exclusionsFirstThenSortedCarveMatches() async {
        let blocks = zip(Gen.uint32(in: 0...0x3FFFF), Gen.int(in: 12...30)).array(of: 0...60)
        await propertyCheck(count: 150, input: blocks, Gen.int(in: 18...28), Gen.int(in: 1...60)) {
            raw, length, count in
            let supernets = [try! IPPrefix(parsing: "10.20.0.0/16"), try! IPPrefix(parsing: "10.21.128.0/17")]
            var occupied = raw.map { offset, size in
                try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | offset))/\(size)").prefix
            }
            let exclude = Array(occupied.suffix(3))
            occupied =
                occupied.dropLast(3) + [try! IPPrefix(parsing: "fd00::/64"), try! IPPrefix(parsing: "192.168.0.0/16")]
            let allowed = supernets.flatMap { FreeSpace.freeBlocks(in: $0, occupied: exclude) }
            #expect(
                FreeSpace.carve(count: count, length: length, in: allowed, sortedOccupied: occupied.sorted())
                    == FreeSpace.carve(count: count, length: length, in: supernets, occupied: occupied + exclude))
        }
    }
}

@Suite("Prefix index")
struct PrefixIndexTests {
    @Test func matchesBruteForce() async {
        let entries = zip(Gen.uint32(in: 0...0xFFFF), Gen.int(in: 12...30)).array(of: 0...60)
        await propertyCheck(count: 200, input: entries, Gen.uint32(in: 0...0xFFFF), Gen.int(in: 12...30)) {
            raw, queryOffset, queryLength in
            let prefixes = raw.map { offset, length in
                try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | offset))/\(length)").prefix
            }
            let index = PrefixIndex(prefixes.enumerated().map { ($1, $0) })
            let query = try! IPPrefix.parseNormalising("\(IPAddress(v4: 0x0A14_0000 | queryOffset))/\(queryLength)")
                .prefix
            let expected = prefixes.indices.filter { prefixes[$0].overlaps(query) }
            #expect(index.overlapping(query).sorted() == expected)
        }
    }
}

/// The IPv6 carving the Vendor does for `"ipVersion": "v6"`: the same properties as IPv4, in a /44 with
/// blocks of /48 to /64 (the offsets reach past 64 bits of the address, so UInt128 arithmetic is exercised).
@Suite("IPv6 carving properties")
struct IPv6CarvingProperties {
    static let supernet = try! IPPrefix(parsing: "fd00:72::/44")

    /// A block of `length` at `offset` /64s into the supernet (normalised to its length).
    static func block(_ offset: UInt32, _ length: Int) -> IPPrefix {
        let address = IPAddress(version: .v6, value: supernet.address.value | (UInt128(offset & 0xFFFFF) << 64))
        return try! IPPrefix.parseNormalising("\(address)/\(length)").prefix
    }

    @Test func smallestFitNeverReturnsOccupiedSpace() async {
        let blocks = zip(Gen.uint32(in: 0...0xFFFFF), Gen.int(in: 50...64)).array(of: 0...40)
        await propertyCheck(count: 300, input: blocks, Gen.int(in: 48...64)) { raw, wanted in
            let occupied = raw.map { Self.block($0, $1) }
            if let fit = FreeSpace.smallestFit(length: wanted, in: [Self.supernet], occupied: occupied) {
                #expect(Self.supernet.contains(fit) && fit.length == wanted && fit.version == .v6)
                #expect(!occupied.contains { $0.overlaps(fit) })
                #expect(fit.address.value % fit.size == 0, "aligned to its size")
            } else {
                // Nothing fits: then every aligned block of that size is taken in part (40 blocks of /50 or
                // smaller cover at most 160 of the 256 /52s, so only /48–/51 can run out).
                #expect(wanted <= 51)
                let candidates = Self.supernet.subnets(ofLength: wanted) ?? []
                #expect(candidates.allSatisfy { c in occupied.contains { $0.overlaps(c) } })
            }
        }
    }

    @Test func carvingNeverOverlapsAndAccountsForEveryAddress() async {
        await propertyCheck(count: 50, input: Gen.int(in: 48...56).array(of: 1...120)) { sizes in
            NetworkMathProperties.fillsWithoutOverlap(try! IPPrefix(parsing: "fd00:72::/46"), sizes: sizes)
        }
    }

    /// `carve(count:)` in IPv6 equals repeated smallest fits, and leaves IPv4 rows and supernets alone.
    @Test func carveManyMatchesRepeatedSmallestFit() async {
        let blocks = zip(Gen.uint32(in: 0...0xFFFFF), Gen.int(in: 46...64)).array(of: 0...30)
        await propertyCheck(count: 150, input: blocks, Gen.int(in: 48...64), Gen.int(in: 1...40)) {
            raw, length, count in
            let occupied = raw.map { Self.block($0, $1) } + [try! IPPrefix(parsing: "10.0.0.0/8")]
            var expected: [IPPrefix] = []
            while expected.count < count,
                let fit = FreeSpace.smallestFit(length: length, in: [Self.supernet], occupied: occupied + expected)
            {
                expected.append(fit)
            }
            let carved = FreeSpace.carve(
                count: count, length: length,
                in: [Self.supernet, try! IPPrefix(parsing: "10.64.0.0/16")].filter { $0.version == .v6 },
                occupied: occupied)
            #expect(carved == expected)
        }
    }

    @Test func subnetLayoutsAreSixtyFours() throws {
        let block = try IPPrefix(parsing: "fd00:72:0:100::/56")
        let layout = try #require(FreeSpace.layout([("app", 64), ("db", 64), ("web", 64)], in: block))
        #expect(layout.map(\.prefix.description) == ["fd00:72:0:100::/64", "fd00:72:0:101::/64", "fd00:72:0:102::/64"])
        #expect(FreeSpace.layout(Array(repeating: ("x", 64), count: 257), in: block) == nil, "a /56 holds 256 /64s")
    }
}
