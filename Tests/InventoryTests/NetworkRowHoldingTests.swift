import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import Testing

@testable import Inventory

/// A network row groups its stored properties by state (`NetworkRow.Holding`), yet the entity it writes back is
/// the one it read: property for property, for rows in every state, rows an older build wrote, and damaged rows
/// whose state does not hold some of their properties.
@Suite("Network rows grouped by state")
struct NetworkRowHoldingTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)
    static func date(_ offset: TimeInterval) -> TableValue { .dateTime(at.addingTimeInterval(offset)) }

    /// A stored network row of `cidr`: its block's properties, `State`, and `properties`.
    static func entity(_ cidr: String, _ state: String, _ properties: [String: TableValue]) -> TableEntity {
        let prefix = try! IPPrefix(parsing: cidr)
        var all = properties
        all["Cidr"] = .string(prefix.description)
        all["PrefixLength"] = .int32(Int32(prefix.length))
        all["IPVersion"] = .int32(Int32(prefix.version.rawValue))
        all["State"] = .string(state)
        return TableEntity(partitionKey: "p", rowKey: RowKeys.network(prefix), properties: all, etag: "W/\"1\"")
    }

    /// What no lease holds: every row names a lease, session and request hash, empty.
    static let noLease: [String: TableValue] = [
        "LeaseId": .string(""), "SessionId": .string(""), "RequestHash": .string(""),
    ]

    /// A lease's facts as this build writes them (a dual-stack lease's IPv4 row, in a pool, with a layout and tags).
    static let lease: [String: TableValue] = [
        "LeaseId": .string("6f1c2b9e-0000-4000-8000-000000000001"), "SessionId": .string("tf-1"),
        "RequestHash": .string("abc123"), "Requester": .string("alice"), "LeasedAt": date(-3600),
        "ExpiresAt": date(3600), "OwnerKey": .string("key-1"), "Owner": .string("sealed-1"), "Pool": .string("team-a"),
        "QuotaKeys": .string("usage_team-a_key-1 usage_root_key-1"),
        "PairKey": .string(RowKeys.network(try! IPPrefix(parsing: "fd00::/56"))),
        "Tags": .string(#"{"env":"prod","team":"a \"b\""}"#),
        "Subnets": .string(#"[{"name":"app","prefixLength":26},{"name":"db","prefixLength":27}]"#),
    ]

    /// The VNet facts of a lease anchored once, and the Manager's marks.
    static let anchor: [String: TableValue] = [
        "ResourceId": .string("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1"),
        "AnchoredAt": date(-1800), "LastSeenAt": date(-60),
    ]
    static let missing: [String: TableValue] = ["MissingSince": date(-600), "MissingCount": .int32(1)]

    static func merged(_ parts: [String: TableValue]...) -> [String: TableValue] {
        parts.reduce(into: [:]) { all, part in all.merge(part) { _, new in new } }
    }

    /// Rows in every state, as this build and older builds wrote them.
    static let rows: [(String, TableEntity)] = [
        ("available", entity("10.0.0.0/24", "available", noLease)),
        ("available in a pool", entity("10.0.1.0/24", "available", merged(noLease, ["Pool": .string("team-a")]))),
        ("leased", entity("10.0.2.0/24", "leased", lease)),
        (
            "leased, adopted with its VNet",
            entity("10.0.2.0/24", "leased", merged(lease, ["ResourceId": anchor["ResourceId"]!]))
        ),
        ("leased, revived after it was anchored", entity("10.0.2.0/24", "leased", merged(lease, anchor))),
        ("anchored", entity("10.0.3.0/24", "anchored", merged(lease, anchor).filter { $0.key != "ExpiresAt" })),
        ("anchored, missing", entity("10.0.3.0/24", "anchored", merged(lease, anchor, missing))),
        ("quarantined after a reap", entity("10.0.4.0/24", "quarantined", merged(lease, ["QuarantinedAt": date(0)]))),
        (
            "quarantined after a release, still missing",
            entity("10.0.4.0/24", "quarantined", merged(lease, anchor, missing, ["QuarantinedAt": date(0)]))
        ),
        ("expired (an older build)", entity("10.0.5.0/24", "expired", merged(lease, ["QuarantinedAt": date(0)]))),
        ("released (an older build)", entity("10.0.6.0/24", "released", merged(lease, anchor))),
        (
            "leased by an older build: no owner, pool, quotas, layout or partner",
            entity(
                "10.0.7.0/24", "leased",
                [
                    "LeaseId": .string("l-old"), "SessionId": .string("s-old"), "RequestHash": .string("h"),
                    "Requester": .string("bob"), "LeasedAt": date(-10), "ExpiresAt": date(10),
                ])
        ),
        (
            "occupied, recorded for an unmanaged VNet",
            entity(
                "10.0.8.0/24", "occupied",
                merged(
                    noLease, missing,
                    [
                        "LockedBy": .string("/subscriptions/s/vnet-hub"), "Origin": .string("observed"),
                        "LastSeenAt": date(-5),
                    ]))
        ),
        (
            "occupied stock, an unknown origin",
            entity(
                "10.0.9.0/24", "occupied",
                merged(
                    noLease,
                    ["LockedBy": .string("/subscriptions/s/vnet"), "Origin": .string("imported"), "Pool": .string("p")])
            )
        ),
        (
            "reserved",
            entity(
                "10.0.10.0/24", "reserved",
                merged(
                    noLease,
                    [
                        "LockedBy": .string("reservation:r1"), "Requester": .string("ops"), "ExpiresAt": date(86_400),
                        "LeasedAt": date(0),
                    ]))
        ),
        ("reserved by configuration (an older build)", entity("10.0.11.0/24", "reserved", noLease)),
        (
            "damaged: available, with a lease's and a VNet's properties its state does not hold",
            entity(
                "10.0.12.0/24", "available",
                merged(lease, ["LockedBy": .string("x"), "QuarantinedAt": date(1), "MissingCount": .int64(3)]))
        ),
        (
            "damaged: leased, with a lock and a quarantine start",
            entity("10.0.13.0/24", "leased", merged(lease, ["LockedBy": .string("x"), "QuarantinedAt": date(1)]))
        ),
        ("damaged: held, without a lease id or session", entity("10.0.14.0/24", "quarantined", noLease)),
    ]

    @Test("decoding a row and encoding it back gives the same properties, in every state and from older builds")
    func roundTrip() throws {
        for (name, entity) in Self.rows {
            let row = try #require(NetworkRow(entity: entity), "\(name)")
            #expect(row.state.rawValue == entity["State"]?.stringValue, "\(name)")
            let written = row.entity(partitionKey: "p")
            #expect(written.rowKey == entity.rowKey, "\(name)")
            #expect(written.properties == entity.properties, "\(name): \(written.properties) != \(entity.properties)")
            let stored = try #require(Stored(network: entity), "\(name)")
            #expect(stored.value == row && stored.etag == "W/\"1\"", "\(name)")
        }
    }

    @Test("a row in a state this build does not know is no row it decodes, so it never writes over it")
    func unknownState() {
        let entity = Self.entity("10.0.0.0/24", "retired", Self.lease)
        #expect(NetworkRow(entity: entity) == nil)
        #expect(Stored(network: entity) == nil)
    }

    @Test("each state holds its own facts: a lease only in the lease states, a VNet, a quarantine, a lock")
    func groupedByState() throws {
        func row(_ name: String) throws -> NetworkRow {
            let entity = try #require(Self.rows.first { $0.0 == name }?.1)
            return try #require(NetworkRow(entity: entity))
        }
        let leased = try row("leased")
        guard case .leased(let lease, let vnet) = leased.holding else {
            Issue.record("a leased row holds a lease")
            return
        }
        #expect(vnet == nil && lease.id == "6f1c2b9e-0000-4000-8000-000000000001" && lease.sessionId == "tf-1")
        #expect(lease.tags == ["env": "prod", "team": "a \"b\""] && lease.subnets.map(\.prefixLength) == [26, 27])
        #expect(lease.quotaKeys == ["usage_team-a_key-1", "usage_root_key-1"] && leased.pool == "team-a")
        let partner = try IPPrefix(parsing: "fd00::/56")
        #expect(leased.partnerPrefix == partner && leased.unheld.isEmpty)

        let anchored = try row("anchored, missing")
        guard case .anchored(_, let anchor) = anchored.holding else {
            Issue.record("an anchored row holds its VNet")
            return
        }
        #expect(anchor.resourceId.hasSuffix("/v1") && anchor.anchoredAt == Self.at.addingTimeInterval(-1800))
        #expect(
            anchor.sighting
                == .init(
                    lastSeenAt: Self.at.addingTimeInterval(-60), missingSince: Self.at.addingTimeInterval(-600),
                    missingCount: 1))

        let quarantined = try row("quarantined after a reap")
        #expect(quarantined.quarantinedAt == Self.at && quarantined.resourceId == nil && quarantined.leaseId != nil)

        let occupied = try row("occupied, recorded for an unmanaged VNet")
        #expect(occupied.lease == nil && occupied.leaseId == nil && occupied.origin == .known(.observed))
        #expect(occupied.lockedBy == "/subscriptions/s/vnet-hub" && occupied.missingCount == 1)

        let reserved = try row("reserved")
        #expect(reserved.lockedBy == "reservation:r1" && reserved.requester == "ops" && reserved.lease == nil)
        #expect(reserved.expiresAt == Self.at.addingTimeInterval(86_400) && reserved.leasedAt == Self.at)

        // What a state does not hold is not read, only kept.
        let damaged = try row("damaged: available, with a lease's and a VNet's properties its state does not hold")
        #expect(damaged.lease == nil && damaged.leaseId == nil && damaged.lockedBy == nil && damaged.expiresAt == nil)
        #expect(damaged.quarantinedAt == nil && damaged.missingCount == 0 && damaged.pool == "team-a")
        #expect(damaged.unheld["LeaseId"] == Self.lease["LeaseId"] && damaged.unheld["MissingCount"] == .int64(3))
        let noIds = try row("damaged: held, without a lease id or session")
        #expect(noIds.lease != nil && noIds.leaseId == nil && noIds.sessionId == nil)
    }

    @Test("a lease's holding exists only for the lease states")
    func leaseHolding() {
        let lease = NetworkRow.Lease(id: "l", sessionId: "s")
        for state in NetworkState.allCases {
            let holding = NetworkRow.Holding.lease(lease, in: state)
            let leaseState: Set<NetworkState> = [.leased, .anchored, .quarantined, .expired, .released]
            #expect((holding != nil) == leaseState.contains(state), "\(state)")
            #expect(holding.map { $0.state == state && $0.lease == lease } ?? true, "\(state)")
        }
    }

    @Test(
        "transitions: anchoring drops the expiry and the quarantine; a release keeps the VNet; a revival keeps it too")
    func transitions() throws {
        let row = try #require(NetworkRow(entity: Self.rows[4].1)) // leased, revived after it was anchored
        let anchored = try #require(row.anchored(to: "/vnet-2", at: Self.at))
        #expect(anchored.state == .anchored && anchored.expiresAt == nil && anchored.resourceId == "/vnet-2")
        #expect(
            anchored.anchoredAt == Self.at && anchored.lastSeenAt == row.lastSeenAt && anchored.leaseId == row.leaseId)
        let missing = anchored.sighted {
            $0.missingSince = Self.at
            $0.missingCount = 2
        }
        #expect(missing.missingCount == 2 && missing.missingSince == Self.at)
        let quarantined = try #require(missing.quarantined(at: Self.at.addingTimeInterval(10)))
        #expect(quarantined.state == .quarantined && quarantined.quarantinedAt == Self.at.addingTimeInterval(10))
        #expect(
            quarantined.resourceId == "/vnet-2" && quarantined.missingCount == 2, "the Vendor's release keeps the marks"
        )
        let revived = try #require(quarantined.leased(until: Self.at.addingTimeInterval(99)))
        #expect(
            revived.state == .leased && revived.quarantinedAt == nil
                && revived.expiresAt == Self.at.addingTimeInterval(99))
        #expect(revived.resourceId == "/vnet-2" && revived.entity(partitionKey: "p")["QuarantinedAt"] == nil)
        let occupied = NetworkRow.available(row.prefix, pool: "p").occupied(by: "/vnet-3")
        #expect(
            occupied.state == .occupied && occupied.lockedBy == "/vnet-3" && occupied.pool == "p"
                && occupied.origin == nil)
    }

    @Test("a row no lease holds has no lease transitions, and its marks change only with a VNet to mark")
    func noLeaseNoTransitions() {
        let available = NetworkRow.available(try! IPPrefix(parsing: "10.0.0.0/24"))
        #expect(available.anchored(to: "/v", at: Self.at) == nil)
        #expect(available.quarantined(at: Self.at) == nil && available.leased(until: Self.at) == nil)
        #expect(available.sighted { $0.missingCount = 5 } == available)
        let leased = NetworkRow(prefix: available.prefix, holding: .leased(.init(id: "l", sessionId: "s"), vnet: nil))
        #expect(leased.sighted { $0.lastSeenAt = Self.at } == leased, "a lease without a VNet has nothing to mark")
    }

    @Test("what a state does not hold is kept while the row keeps its state, and dropped when it changes")
    func unheldFollowsState() throws {
        let entity = try #require(Self.rows.first { $0.0.hasPrefix("damaged: leased") }?.1)
        let row = try #require(NetworkRow(entity: entity))
        #expect(row.unheld.keys.sorted() == ["LockedBy", "QuarantinedAt"] && row.lockedBy == nil)
        let renewed = try #require(row.leased(until: Self.at))
        #expect(renewed.entity(partitionKey: "p")["LockedBy"] == .string("x"))
        let anchored = try #require(row.anchored(to: "/v", at: Self.at))
        #expect(anchored.unheld.isEmpty && anchored.entity(partitionKey: "p")["QuarantinedAt"] == nil)
    }

    @Test("a dual-stack partner takes the lease's lifecycle and keeps its own layout and partner key")
    func mirrored() throws {
        let draft = LeaseDraft(
            leaseId: "l", sessionId: "s", requestHash: "h", requester: nil, leasedAt: Self.at,
            expiresAt: Self.at.addingTimeInterval(60), subnets: [.init(name: "app", prefixLength: 26)])
        let (v4, v6, _) = draft.pairRows(
            v4: try IPPrefix(parsing: "10.1.0.0/24"), v6: try IPPrefix(parsing: "fd00::/56"))
        let anchored = try #require(v4.anchored(to: "/v", at: Self.at))
        let partner = anchored.mirrored(onto: v6)
        #expect(partner.state == .anchored && partner.resourceId == "/v" && partner.expiresAt == nil)
        #expect(partner.subnets == [.init(name: "app", prefixLength: 64)] && partner.pairKey == v4.rowKey)
        let stock = NetworkRow.available(v6.prefix)
        #expect(anchored.mirrored(onto: stock) == stock, "a partner no lease holds is left as it is")
    }
}
