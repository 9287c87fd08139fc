import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// Adopting existing VNets end to end: the Manager has locked what an unmanaged VNet uses; adoption takes
/// exactly those rows over, and the next run anchors the lease like any other.
@Suite("Adopting existing networks")
struct AdoptionAnchorTests {
    static func vnetId(_ name: String) -> String {
        "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)"
    }

    static func adopt(_ world: TerraformGapTests.World, _ body: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send("POST", world.vendorURL + "/api/adoptNetwork", body: body)
    }

    @Test(
        "an unmanaged VNet over stock and free space: locked by Sync; adopted with its resource id (its rows give way, nothing else does); anchored by the next run; replays answer the same lease"
    )
    func adoptAndAnchor() async throws {
        try await TerraformGapTests.withWorld { world in
            _ = try await world.lease("seed")
            let stock = try await world.table.queryAll(
                filter: "PartitionKey eq '\(world.scope.partitionKey)' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
            let stocked = try #require(stock.first).prefix
            // A legacy VNet on a stocked block, and another on free space nobody recorded yet.
            let freeBlock = try IPPrefix(parsing: "10.64.240.0/22")
            await world.deploy("legacy", [stocked.description])
            await world.deploy("legacy-free", [freeBlock.description])
            _ = try await world.manager.run()
            #expect(try await world.row(stocked.description)?.state == .occupied)
            #expect(
                try await world.row(freeBlock.description)?.state == .occupied,
                "Sync records the unmanaged VNet on free space")

            // Without its resource id, the VNet's own rows are in the way.
            let blind = try await Self.adopt(world, #"{"SessionId":"adopt-blind","cidr":"\#(stocked)"}"#)
            #expect(blind.status == 409 && blind.code == "Overlap" && blind.text.contains("legacy"), "\(blind.text)")
            // Another VNet's resource id does not unlock it either.
            let other = try await Self.adopt(
                world,
                #"{"SessionId":"adopt-other","cidr":"\#(stocked)","resourceId":"\#(Self.vnetId("someone-else"))"}"#)
            #expect(other.code == "Overlap", "\(other.text)")

            let adopted = try await Self.adopt(
                world,
                #"{"SessionId":"adopt-legacy","cidr":"\#(stocked)","resourceId":"\#(Self.vnetId("legacy"))","requester":"migration","tags":{"env":"prod"}}"#
            )
            #expect(
                adopted.status == 201 && adopted.string("cidr") == stocked.description
                    && adopted.string("state") == "leased", "\(adopted.text)")
            let leaseId = try #require(adopted.string("leaseId"))
            let adoptedFree = try await Self.adopt(
                world,
                #"{"SessionId":"adopt-free","cidr":"\#(freeBlock)","resourceId":"\#(Self.vnetId("legacy-free").uppercased())"}"#
            )
            #expect(
                adoptedFree.status == 201, "resource ids compare case-insensitively, as Azure's do: \(adoptedFree.text)"
            )
            try await world.invariants()

            let report = try await world.manager.run()
            #expect(report.complete)
            let anchored = try #require(try await world.row(stocked.description))
            #expect(
                anchored.state == .anchored && anchored.leaseId == leaseId
                    && anchored.resourceId == Self.vnetId("legacy") && anchored.expiresAt == nil)
            #expect(try await world.row(freeBlock.description)?.state == .anchored)
            try await world.invariants()

            let replay = try await Self.adopt(
                world,
                #"{"SessionId":"adopt-legacy","cidr":"\#(stocked)","resourceId":"\#(Self.vnetId("legacy"))","requester":"migration","tags":{"env":"prod"}}"#
            )
            #expect(
                replay.status == 200 && replay.string("leaseId") == leaseId && replay.string("state") == "anchored",
                "\(replay.text)")
            let conflict = try await Self.adopt(world, #"{"SessionId":"adopt-legacy","cidr":"10.64.244.0/24"}"#)
            #expect(conflict.status == 409 && conflict.code == "SessionConflict", "\(conflict.text)")
            let asClaim = try await world.lease("adopt-legacy")
            #expect(
                asClaim.code == "SessionConflict",
                "a getNewNetwork with an adopting SessionId is a different request: \(asClaim.text)")

            // The VNet goes away: the adopted lease ends like any anchored one.
            await world.destroy("legacy")
            _ = try await world.manager.run(now: Date())
            _ = try await world.manager.run(now: Date().addingTimeInterval(300))
            #expect(try await world.row(stocked.description)?.state == .quarantined)
            try await world.invariants()
        }
    }

    @Test(
        "a dual-stack VNet: Sync locks both of its prefixes; adopted with cidr and cidrV6 as one dual-stack lease (both rows give way, nothing else does); the next run anchors both; a replay answers both"
    )
    func adoptDualStack() async throws {
        try await TerraformGapTests.withWorld(environment: IPv6LeaseTests.environment) { world in
            let (v4, v6) = (try IPPrefix(parsing: "10.64.240.0/22"), try IPPrefix(parsing: "fd00:64:0:f00::/56"))
            await world.deploy("legacy-ds", [v4.description, v6.description])
            _ = try await world.manager.run()
            #expect(try await world.row(v4.description)?.state == .occupied)
            #expect(try await world.row(v6.description)?.state == .occupied)
            let body =
                #"{"SessionId":"adopt-ds","cidr":"\#(v4)","cidrV6":"\#(v6)","resourceId":"\#(Self.vnetId("legacy-ds"))"}"#
            let adopted = try await Self.adopt(world, body)
            #expect(
                adopted.status == 201 && adopted.string("cidr") == v4.description
                    && adopted.string("cidrV6") == v6.description, "\(adopted.text)")
            let leaseId = try #require(adopted.string("leaseId"))
            let rows = [try await world.row(v4.description), try await world.row(v6.description)]
            #expect(
                rows.allSatisfy { $0?.state == .leased && $0?.leaseId == leaseId }
                    && rows[0]?.pairKey == rows[1]?.rowKey && rows[1]?.pairKey == rows[0]?.rowKey)
            try await world.invariants()
            // Refusals: the IPv6 block must be IPv6, the IPv4 one IPv4, and another VNet's IPv6 space is in the way.
            #expect(
                try await Self.adopt(world, #"{"SessionId":"adopt-x","cidr":"\#(v6)","cidrV6":"\#(v4)"}"#).code
                    == "InvalidCombination")
            await world.deploy("other-v6", ["fd00:64:0:e00::/56"])
            _ = try await world.manager.run()
            let blocked = try await Self.adopt(
                world, #"{"SessionId":"adopt-y","cidr":"10.64.250.0/24","cidrV6":"fd00:64:0:e00::/56"}"#)
            #expect(
                blocked.status == 409 && blocked.code == "Overlap" && blocked.text.contains("other-v6"),
                "\(blocked.text)")
            #expect(try await world.session("adopt-y") == nil, "nothing written")
            #expect(try await world.row("10.64.250.0/24") == nil)

            _ = try await world.manager.run()
            #expect(
                try await DualStackLeaseTests.states(world, v4.description, v6.description) == [.anchored, .anchored])
            try await world.invariants()
            let replay = try await Self.adopt(world, body)
            #expect(
                replay.status == 200 && replay.string("cidrV6") == v6.description
                    && replay.string("state") == "anchored", "\(replay.text)")
        }
    }
}
