import NetworkMath
import PropertyBased
import Testing

@Suite("Host addresses of a subnet")
struct HostAddressesTests {
    @Test(
        "Azure's five: offsets 0–3 and the last are never usable, in IPv4 and IPv6",
        arguments: [
            ("10.0.0.0/28", 11, "10.0.0.4", "10.0.0.14"), ("10.0.0.0/29", 3, "10.0.0.4", "10.0.0.6"),
            ("10.0.0.0/24", 251, "10.0.0.4", "10.0.0.254"),
            ("10.0.0.0/30", 0, "", ""), ("10.0.0.0/32", 0, "", ""), ("fd00::/124", 11, "fd00::4", "fd00::e"),
        ])
    func reserved(_ cidr: String, _ usable: Int, _ first: String, _ last: String) throws {
        let hosts = HostAddresses(subnet: try IPPrefix(parsing: cidr))
        #expect(hosts.usableCount == usable)
        #expect(!(0..<4).contains { hosts.isUsable($0) })
        if usable > 0 {
            #expect(hosts.address(at: hosts.firstUsable).description == first)
            #expect(hosts.address(at: hosts.endUsable - 1).description == last)
            #expect(!hosts.isUsable(hosts.endUsable), "the last address (broadcast) is reserved")
        }
    }

    @Test("an IPv6 /64 hands out at most 65,536 addresses, an IPv4 /16 its 65,531")
    func capped() throws {
        #expect(HostAddresses(subnet: try IPPrefix(parsing: "fd00:1::/64")).usableCount == HostAddresses.maximumOffsets)
        #expect(HostAddresses(subnet: try IPPrefix(parsing: "10.1.0.0/16")).usableCount == 65_531)
    }

    /// Random allocate/release sequences against a reference model: the lowest never-used offset, or the
    /// most recently released; never twice, never reserved, exhausted exactly when the model is.
    @Test func poolMatchesTheModel() async {
        let steps = zip(Gen.bool, Gen.int(in: 0...40)).array(of: 0...200)
        await propertyCheck(count: 300, input: Gen.int(in: 24...30), steps) { length, script in
            let subnet = IPPrefix(address: IPAddress(v4: 0x0A00_0000), length: length)!
            var pool = HostAddressPool(addresses: HostAddresses(subnet: subnet))
            var modelNext = 4
            var modelFree: [Int] = []
            var held: [Int] = []
            let end = Int(subnet.size) - 1
            for (allocate, pick) in script {
                if allocate || held.isEmpty {
                    let expected: Int? = modelFree.popLast() ?? (modelNext < end ? modelNext : nil)
                    if expected == modelNext { modelNext += 1 }
                    let got = pool.allocate()
                    #expect(got == expected)
                    if let got {
                        #expect(!held.contains(got) && got >= 4 && got < end)
                        held.append(got)
                    }
                } else {
                    let offset = held.remove(at: pick % held.count)
                    pool.release(offset)
                    modelFree.append(offset)
                }
                #expect(pool.inUse == Set(held))
                #expect(pool.remaining == max(0, end - 4) - held.count)
                // As stored and read back, the pool is the same.
                #expect(HostAddressPool(addresses: pool.addresses, next: pool.next, free: pool.free) == pool)
            }
        }
    }

    @Test("a release of an offset that is not in use changes nothing")
    func strayReleases() throws {
        var pool = HostAddressPool(addresses: HostAddresses(subnet: try IPPrefix(parsing: "10.0.0.0/28")))
        let first = pool.allocate()
        for offset in [0, 3, 15, 9, 100] { pool.release(offset) } // reserved, broadcast, never handed out, outside
        #expect(pool.free.isEmpty)
        pool.release(first!)
        pool.release(first!)
        #expect(pool.free == [first!], "released once, listed once")
    }
}
