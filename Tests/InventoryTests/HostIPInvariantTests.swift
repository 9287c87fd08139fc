import Foundation
import IPAMCore
import Inventory
import NetworkMath
import TestSupport
import Testing

/// The host-IP invariant checker finds each kind of damage (so a test that relies on it can fail).
@Suite("Host-IP invariants")
struct HostIPInvariantTests {
    static func head(next: Int, free: [Int]) throws -> HostIPHead {
        let row = NetworkRow(
            prefix: try IPPrefix(parsing: "10.0.0.0/28"),
            holding: .leased(.init(id: "6f1c2b9e-0000-4000-8000-000000000001", sessionId: ""), vnet: nil))
        var head = HostIPHead(lease: row, scope: Scope(subscriptionId: "s", region: "r"))
        head.subnets[0] = HostSubnet(
            name: nil, pool: HostAddressPool(addresses: head.subnets[0].pool.addresses, next: next, free: free))
        return head
    }

    static func held(_ who: String, _ offset: Int, address: String? = nil) -> HostIPAllocation {
        HostIPAllocation(
            principalKey: who, sealedPrincipal: "", subnetIndex: 0, offset: offset,
            address: IPAddress(address ?? "10.0.0.\(offset)")!, allocatedAt: Date(), allocatedBy: who)
    }

    @Test("a consistent partition has no violations")
    func clean() throws {
        let problems = HostIPInvariants.violations(
            head: try Self.head(next: 7, free: [5]), allocations: [Self.held("a", 4), Self.held("b", 6)],
            members: ["a", "b"])
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(
        "lost offsets, double holdings, reserved or misplaced addresses, free-and-held, non-members are each reported")
    func damage() throws {
        let cases: [(HostIPHead, [HostIPAllocation], Set<String>, String)] = [
            (
                try Self.head(next: 7, free: []), [Self.held("a", 4), Self.held("b", 6)], ["a", "b"],
                "neither free nor held"
            ),
            (
                try Self.head(next: 6, free: []), [Self.held("a", 4), Self.held("b", 4), Self.held("c", 5)],
                ["a", "b", "c"], "held twice"
            ),
            (
                try Self.head(next: 6, free: [5]), [Self.held("a", 4), Self.held("b", 5)], ["a", "b"],
                "both free and held"
            ),
            (try Self.head(next: 5, free: []), [Self.held("a", 4)], [], "not a member"),
            (try Self.head(next: 5, free: []), [Self.held("a", 2)], ["a"], "reserved"),
            (try Self.head(next: 5, free: []), [Self.held("a", 4, address: "10.0.0.9")], ["a"], "is not at offset"),
            (try Self.head(next: 5, free: [9]), [Self.held("a", 4)], ["a"], "never handed out"),
            (try Self.head(next: 6, free: [5, 5]), [Self.held("a", 4)], ["a"], "repeats"),
        ]
        for (head, allocations, members, expected) in cases {
            let problems = HostIPInvariants.violations(head: head, allocations: allocations, members: members)
            #expect(problems.contains { $0.contains(expected) }, "expected '\(expected)' in \(problems)")
        }
    }
}

/// The same checker on a dual-stack lease's head: the IPv6 side is held to the same rules, and a principal
/// holds one address of each version.
@Suite("Host-IP invariants: dual-stack leases")
struct DualStackHostIPInvariantTests {
    /// A dual-stack lease's head (no layout: the whole /28 and the whole /64), `next` and `free` on the IPv6 side.
    static func head(nextV6: Int, freeV6: [Int]) throws -> HostIPHead {
        let lease = NetworkRow.Lease(
            id: "6f1c2b9e-0000-4000-8000-000000000002", sessionId: "",
            pairKey: RowKeys.network(try IPPrefix(parsing: "fd00::/64")))
        let row = NetworkRow(prefix: try IPPrefix(parsing: "10.0.0.0/28"), holding: .leased(lease, vnet: nil))
        var head = HostIPHead(lease: row, scope: Scope(subscriptionId: "s", region: "r"))
        head.subnets[0] = HostSubnet(
            name: nil, pool: HostAddressPool(addresses: head.subnets[0].pool.addresses, next: 6, free: []))
        head.v6Subnets[0] = HostSubnet(
            name: nil, pool: HostAddressPool(addresses: head.v6Subnets[0].pool.addresses, next: nextV6, free: freeV6))
        return head
    }

    static func held(_ who: String, _ offset: Int, v6 offsetV6: Int?, address: String? = nil) -> HostIPAllocation {
        var allocation = HostIPInvariantTests.held(who, offset)
        allocation.offsetV6 = offsetV6
        allocation.addressV6 = offsetV6.map { IPAddress(address ?? "fd00::\($0)")! }
        return allocation
    }

    @Test("a head made from a dual-stack lease has the IPv6 block; a consistent partition has no violations")
    func clean() throws {
        let head = try Self.head(nextV6: 6, freeV6: [])
        #expect(head.v6Subnets.map(\.prefix.description) == ["fd00::/64"])
        let problems = HostIPInvariants.violations(
            head: head, allocations: [Self.held("a", 4, v6: 4), Self.held("b", 5, v6: 5)], members: ["a", "b"])
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(
        "an IPv6 offset held twice, lost, misplaced or both free and held, and a principal without its IPv6 address: each reported"
    )
    func damage() throws {
        let cases: [(HostIPHead, [HostIPAllocation], String)] = [
            (
                try Self.head(nextV6: 6, freeV6: []), [Self.held("a", 4, v6: 4), Self.held("b", 5, v6: 4)],
                "IPv6 offset 4 of subnet 0 is held twice"
            ),
            (
                try Self.head(nextV6: 7, freeV6: []), [Self.held("a", 4, v6: 4), Self.held("b", 5, v6: 5)],
                "IPv6 subnet 0: offsets 6 are neither free nor held"
            ),
            (
                try Self.head(nextV6: 6, freeV6: [5]), [Self.held("a", 4, v6: 4), Self.held("b", 5, v6: 5)],
                "both free and held"
            ),
            (
                try Self.head(nextV6: 6, freeV6: [5]),
                [Self.held("a", 4, v6: 4, address: "fd00::9"), Self.held("b", 5, v6: nil)], "is not at IPv6 offset 4"
            ),
            (
                try Self.head(nextV6: 5, freeV6: []), [Self.held("a", 4, v6: 4), Self.held("b", 5, v6: nil)],
                "no IPv6 address in a dual-stack lease"
            ),
        ]
        for (head, allocations, expected) in cases {
            let problems = HostIPInvariants.violations(head: head, allocations: allocations, members: ["a", "b"])
            #expect(problems.contains { $0.contains(expected) }, "expected '\(expected)' in \(problems)")
        }
        // A lease of one block where someone holds an IPv6 address.
        let single = try HostIPInvariantTests.head(next: 5, free: [])
        #expect(
            HostIPInvariants.violations(head: single, allocations: [Self.held("a", 4, v6: 4)], members: ["a"]).contains
            { $0.contains("without IPv6 subnets") })
    }
}

@Suite("Host-IP head storage")
struct HostIPHeadStorageTests {
    @Test("a head with a long free list (more than one property's worth) is stored in chunks and read back unchanged")
    func longFreeList() async throws {
        let table = try await TestStorage.freshTable("hiph")
        let inventory = Inventory(table: table, actor: "test")
        let row = NetworkRow(
            prefix: try IPPrefix(parsing: "10.8.0.0/16"),
            holding: .leased(.init(id: UUID().uuidString.lowercased(), sessionId: ""), vnet: nil))
        var head = HostIPHead(lease: row, scope: Scope(subscriptionId: "s", region: "r"))
        var pool = head.subnets[0].pool
        for _ in 0..<12_000 { _ = pool.allocate() }
        // ~6,000 offsets, ~30,000+ characters
        for offset in stride(from: 11_999, through: 4, by: -2) { pool.release(offset) }
        head.subnets[0].pool = pool
        #expect(pool.free.map(String.init).joined(separator: ",").count > 30_000)
        #expect(try await inventory.commit(HostIPChange(head: head), now: Date()) == .done)
        let stored = try #require(try await inventory.hostIPHeads().first { $0.leaseId == row.leaseId })
        #expect(stored.subnets[0].pool == pool && stored.version == 1 && stored.networkRowKey == row.rowKey)
        var second = HostIPChange(head: stored)
        second.head.subnets[0].pool.release(11_998)
        #expect(try await inventory.commit(second, now: Date()) == .done)
        #expect(
            try await inventory.commit(second, now: Date()) == .changed,
            "the head moved: a change under the old ETag is refused")
    }
}
