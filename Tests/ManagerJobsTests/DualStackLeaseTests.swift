import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import StrictJSON
import TestSupport
import Testing

/// Dual-stack leases (`"dualStack": true`): an IPv4 and an IPv6 block under one lease, answered as `cidr` and
/// `cidrV6`, anchored together by one VNet that carries both prefixes, released and reaped together.
@Suite("Dual-stack leases")
struct DualStackLeaseTests {
    static let environment = IPv6LeaseTests.environment

    static func lease(_ world: TerraformGapTests.World, _ body: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send("POST", world.vendorURL + "/api/getNewNetwork", body: body)
    }

    /// Both rows of the lease: they must tell the same state (the invariant checker holds them to it too).
    static func states(_ world: TerraformGapTests.World, _ v4: String, _ v6: String) async throws -> [NetworkState?] {
        [try await world.row(v4)?.state, try await world.row(v6)?.state]
    }

    @Test(
        "one lease holds a /24 and a /56 with /64 subnets; replay, GET, listing and events show both once; refusals with codes; a VNet with only one prefix is drift; with both it anchors both; gone → released together; after the quarantine both are stock again"
    )
    func deployedLifecycle() async throws {
        try await TerraformGapTests.withWorld(environment: Self.environment) { world in
            let body =
                #"{"SessionId":"ds-1","dualStack":true,"prefixLength":24,"prefixLengthV6":56,"subnets":[{"name":"app","prefixLength":26},{"name":"db","prefixLength":27}]}"#
            let first = try await Self.lease(world, body)
            #expect(first.status == 201, "\(first.text)")
            let v4 = try IPPrefix(parsing: try #require(first.string("cidr")))
            let v6 = try IPPrefix(parsing: try #require(first.string("cidrV6"), "\(first.text)"))
            let supernetV6 = try IPPrefix(parsing: "fd00:64::/44")
            #expect(
                v4.version == .v4 && v4.length == 24 && v6.version == .v6 && v6.length == 56 && supernetV6.contains(v6))
            #expect(first.json?["prefixLengthV6"] == .number("56"))
            let subnets = first.json?["subnets"]?.arrayValue ?? []
            #expect(subnets.map { $0["name"]?.stringValue } == ["app", "db"])
            let subnetV6 = subnets.compactMap { $0["cidrV6"]?.stringValue.flatMap { try? IPPrefix(parsing: $0) } }
            #expect(
                subnetV6.count == 2 && subnetV6.allSatisfy { $0.length == 64 && v6.contains($0) }
                    && subnetV6[0] != subnetV6[1], "\(subnets)")
            let leaseId = try #require(first.string("leaseId"))

            let replay = try await Self.lease(world, body)
            #expect(
                replay.status == 200 && replay.string("cidr") == v4.description
                    && replay.string("cidrV6") == v6.description)
            #expect(
                try await Self.lease(world, #"{"SessionId":"ds-1","prefixLength":24}"#).code == "SessionConflict",
                "dualStack is part of the request")
            let single = try await Self.lease(world, #"{"SessionId":"single-1"}"#)
            #expect(
                single.status == 201 && single.json?["cidrV6"] == .null && single.json?["prefixLengthV6"] == .null,
                "\(single.text)")

            // Refusals: each with its status and code, nothing written.
            for (refused, status, code) in [
                (#"{"SessionId":"ds-x","dualStack":true,"ipVersion":"v6"}"#, 422, "InvalidCombination"),
                (#"{"SessionId":"ds-x","prefixLengthV6":56}"#, 422, "InvalidCombination"),
                (#"{"SessionId":"ds-x","dualStack":true,"region":"westeurope"}"#, 422, "OutsideSupernets"),
                (#"{"SessionId":"ds-x","dualStack":"yes"}"#, 400, "InvalidField"),
                (#"{"SessionId":"ds-x","dualStack":true,"prefixLengthV6":40}"#, 400, "InvalidPrefixLength"),
                (
                    #"{"SessionId":"ds-x","dualStack":true,"prefixLengthV6":64,"subnets":[{"name":"a","prefixLength":26},{"name":"b","prefixLength":26}]}"#,
                    422, "SubnetsDoNotFit"
                ),
            ] {
                let answer = try await Self.lease(world, refused)
                #expect(answer.status == status && answer.code == code, "\(refused): \(answer.text)")
            }
            #expect(try await world.session("ds-x") == nil)

            let byId = try await HTTPCalls.send("GET", world.vendorURL + "/api/leases/\(leaseId)")
            #expect(byId.string("cidr") == v4.description && byId.string("cidrV6") == v6.description, "\(byId.text)")
            let listed = try await HTTPCalls.send("GET", world.vendorURL + "/api/leases?state=leased")
            let mine = listed.json?["leases"]?.arrayValue?.filter { $0["leaseId"]?.stringValue == leaseId } ?? []
            #expect(
                mine.count == 1 && mine.first?["cidrV6"]?.stringValue == v6.description, "listed once: \(listed.text)")
            let inV6 = try await HTTPCalls.send("GET", world.vendorURL + "/api/leases?within=fd00:64::/44")
            #expect(
                inV6.json?["leases"]?.arrayValue?.contains {
                    $0["leaseId"]?.stringValue == leaseId && $0["cidr"]?.stringValue == v4.description
                } == true,
                "a listing of IPv6 space finds it by its IPv6 block: \(inV6.text)")
            let events = try await HTTPCalls.send("GET", world.vendorURL + "/api/events?leaseId=\(leaseId)")
            let leased = events.json?["events"]?.arrayValue ?? []
            #expect(
                leased.count == 1 && leased.first?["cidr"]?.stringValue == v4.description
                    && leased.first?["cidrV6"]?.stringValue == v6.description, "\(events.text)")
            try await world.invariants()

            // Terraform deploys the VNet with only the IPv4 prefix: that is drift, and neither block is anchored.
            await world.deploy("vnet-ds", [v4.description], lease: leaseId)
            let partial = try await world.manager.run()
            #expect(partial.drift.contains { $0.contains(leaseId) && $0.contains(v6.description) }, "\(partial.drift)")
            #expect(try await Self.states(world, v4.description, v6.description) == [.leased, .leased])
            // Both prefixes: both anchored, in one change.
            await world.deploy("vnet-ds", [v4.description, v6.description], lease: leaseId)
            let anchored = try await world.manager.run()
            #expect(anchored.actions["anchor"] == 1, "one lease, one anchor: \(anchored.actions)")
            #expect(try await Self.states(world, v4.description, v6.description) == [.anchored, .anchored])
            #expect(try await world.row(v6.description)?.resourceId?.hasSuffix("/vnet-ds") == true)
            try await world.invariants()

            // The VNet goes: missing twice over the release grace → both quarantined; after the quarantine both are stock.
            await world.destroy("vnet-ds")
            let now = Date()
            _ = try await world.manager.run(now: now)
            _ = try await world.manager.run(now: now.addingTimeInterval(world.manager.settings.releaseGrace + 1))
            #expect(try await Self.states(world, v4.description, v6.description) == [.quarantined, .quarantined])
            try await world.invariants()
            _ = try await world.manager.run(
                now: now.addingTimeInterval(
                    world.manager.settings.releaseGrace + world.manager.settings.quarantine + 60))
            #expect(try await Self.states(world, v4.description, v6.description) == [.available, .available])
            #expect(try await world.session("ds-1") == nil)
            #expect(try await world.row(v6.description)?.pairKey == nil, "stock blocks are no pair")
            try await world.invariants()
            let gone = try await HTTPCalls.send("DELETE", world.vendorURL + "/api/leases/\(leaseId)")
            #expect(
                gone.status == 200 && gone.string("cidrV6") == v6.description,
                "the audit trail still names both blocks: \(gone.text)")
        }
    }

    @Test(
        "never deployed: renew extends both blocks; expiry reaps both together; a replay revives both; release quarantines both; DELETE answers both"
    )
    func neverDeployed() async throws {
        try await TerraformGapTests.withWorld(environment: Self.environment) { world in
            let body = #"{"SessionId":"ds-2","dualStack":true}"#
            let first = try await Self.lease(world, body)
            let v4 = try #require(first.string("cidr"), "\(first.text)")
            let v6 = try #require(first.string("cidrV6"))
            #expect(
                first.json?["prefixLength"] == .number("24") && first.json?["prefixLengthV6"] == .number("56"),
                "the defaults")
            let leaseId = try #require(first.string("leaseId"))

            let renewed = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/renewLease", body: #"{"leaseId":"\#(leaseId)"}"#)
            #expect(renewed.status == 200 && renewed.string("cidrV6") == v6, "\(renewed.text)")
            let rows = [try await world.row(v4), try await world.row(v6)]
            #expect(rows[0]?.expiresAt != nil && rows[0]?.expiresAt == rows[1]?.expiresAt, "one expiry for both")
            try await world.invariants()

            let expires = try #require(rows[0]?.expiresAt)
            let reap = try await world.manager.run(
                now: expires.addingTimeInterval(world.manager.settings.reapGrace + 1))
            #expect(reap.actions["reap"] == 1, "\(reap.actions)")
            #expect(try await Self.states(world, v4, v6) == [.quarantined, .quarantined])
            try await world.invariants()

            let revived = try await Self.lease(world, body)
            #expect(
                revived.status == 200 && revived.string("cidr") == v4 && revived.string("cidrV6") == v6
                    && revived.string("state") == "leased", "\(revived.text)")
            #expect(try await Self.states(world, v4, v6) == [.leased, .leased])

            let released = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/releaseNetwork", body: #"{"SessionId":"ds-2"}"#)
            #expect(
                released.status == 200 && released.string("state") == "quarantined" && released.string("cidrV6") == v6,
                "\(released.text)")
            #expect(try await Self.states(world, v4, v6) == [.quarantined, .quarantined])
            let deleted = try await HTTPCalls.send("DELETE", world.vendorURL + "/api/leases/\(leaseId)")
            #expect(deleted.status == 200 && deleted.string("cidrV6") == v6)
            try await world.invariants()
            let again = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/releaseNetwork", body: #"{"SessionId":"ds-2"}"#)
            #expect(again.code == "AlreadyReleased")
        }
    }
}
