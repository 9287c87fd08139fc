import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import StrictJSON
import TestSupport
import Testing

/// IPv6 blocks (`"ipVersion": "v6"`): vended from the scope's IPv6 supernets within `CIDR_SIZE_V6_*`, /64
/// subnet layouts, concurrent callers never share space, the Manager keeps `"v6/56"` stock and anchors them.
@Suite("IPv6 leases")
struct IPv6LeaseTests {
    static let environment = [
        "SUPERNETS_CONFIG":
            #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16","fd00:64::/44"],"exclude":["10.64.0.0/24"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#,
        "SCOPE_CONFIG_MANIFEST":
            #"{"defaultScope":{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus","stock":{"24":2,"v6/56":3}}]}"#,
    ]

    static func lease(_ world: TerraformGapTests.World, _ body: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send("POST", world.vendorURL + "/api/getNewNetwork", body: body)
    }

    @Test(
        "vend /56 by default and /48–/64 on request, with /64 subnets; refusals with codes; 32 concurrent callers get disjoint blocks; v6 stock replenished; anchored by a VNet with the prefix; free IPv6 space reported"
    )
    func ipv6() async throws {
        try await TerraformGapTests.withWorld(environment: Self.environment) { world in
            let supernet = try IPPrefix(parsing: "fd00:64::/44")
            let first = try await Self.lease(
                world,
                #"{"SessionId":"v6-1","ipVersion":"v6","subnets":[{"name":"app","prefixLength":64},{"name":"db","prefixLength":64}]}"#
            )
            let block = try IPPrefix(parsing: try #require(first.string("cidr"), "\(first.text)"))
            #expect(first.status == 201 && block.version == .v6 && block.length == 56 && supernet.contains(block))
            let subnets = first.json?["subnets"]?.arrayValue?.compactMap { $0["cidr"]?.stringValue } ?? []
            #expect(
                subnets.count == 2
                    && subnets.allSatisfy {
                        (try? IPPrefix(parsing: $0))?.length == 64 && block.contains(try! IPPrefix(parsing: $0))
                    }, "\(subnets)")
            #expect(
                try await Self.lease(
                    world,
                    #"{"SessionId":"v6-1","ipVersion":"v6","subnets":[{"name":"app","prefixLength":64},{"name":"db","prefixLength":64}]}"#
                ).status == 200)
            #expect(
                try await Self.lease(world, #"{"SessionId":"v6-1","ipVersion":"v4"}"#).code == "SessionConflict",
                "the version is part of the request")
            let small = try await Self.lease(world, #"{"SessionId":"v6-64","ipVersion":"v6","prefixLength":64}"#)
            #expect(small.status == 201 && small.json?["prefixLength"] == .number("64"))

            #expect(
                try await Self.lease(world, #"{"SessionId":"v6-x","ipVersion":"v6","prefixLength":40}"#).code
                    == "InvalidPrefixLength")
            #expect(
                try await Self.lease(world, #"{"SessionId":"v6-x","ipVersion":"v6","prefixLength":24}"#).code
                    == "InvalidPrefixLength")
            #expect(try await Self.lease(world, #"{"SessionId":"v6-x","ipVersion":"v5"}"#).code == "InvalidField")
            #expect(
                try await Self.lease(
                    world, #"{"SessionId":"v6-x","ipVersion":"v6","subnets":[{"name":"a","prefixLength":63}]}"#
                ).code == "SubnetsDoNotFit")
            #expect(
                try await Self.lease(
                    world, #"{"SessionId":"v6-x","ipVersion":"v6","subnets":[{"name":"a","prefixLength":26}]}"#
                ).code == "SubnetsDoNotFit", "an IPv4 size in an IPv6 block")
            #expect(
                try await Self.lease(world, #"{"SessionId":"v6-x","subnets":[{"name":"a","prefixLength":64}]}"#).code
                    == "SubnetsDoNotFit", "an IPv6 size in an IPv4 block")
            let noV6 = try await Self.lease(world, #"{"SessionId":"v6-x","ipVersion":"v6","region":"westeurope"}"#)
            #expect(
                noV6.status == 422 && noV6.code == "OutsideSupernets" && noV6.text.contains("no IPv6 supernet"),
                "\(noV6.text)")

            let url = world.vendorURL
            let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for index in 0..<32 {
                    let body =
                        #"{"SessionId":"v6-many-\#(index)","ipVersion":"v6","prefixLength":\#(index % 3 == 0 ? 52 : 56)}"#
                    group.addTask {
                        try await HTTPCalls.sendRetryingBusy("POST", url + "/api/getNewNetwork", body: body)
                    }
                }
                return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
            }
            var blocks = [block]
            for answer in answers {
                #expect(answer.status == 201, "\(answer.text)")
                if let cidr = answer.string("cidr"), let parsed = try? IPPrefix(parsing: cidr) { blocks.append(parsed) }
            }
            #expect(blocks.count == 33)
            for (i, a) in blocks.enumerated() {
                for b in blocks[(i + 1)...] { #expect(!a.overlaps(b), "\(a) and \(b)") }
            }
            try await world.invariants()

            // The Manager keeps the IPv6 stock and anchors an IPv6 lease to its VNet.
            _ = try await world.manager.run()
            let stock = try await world.manager.inventory.availableCandidates(
                in: world.scope, length: 56, version: .v6, limit: 10)
            #expect(stock.count >= 3 && stock.allSatisfy { supernet.contains($0.prefix) })
            await world.deploy("vnet-v6", [block.description], lease: first.string("leaseId"))
            _ = try await world.manager.run()
            #expect(try await world.row(block.description)?.state == .anchored)
            try await world.invariants()

            let pools = try await HTTPCalls.send("GET", world.vendorURL + "/api/pools")
            let east = try #require(pools.json?["pools"]?.arrayValue?.first { $0["region"]?.stringValue == "eastus" })
            let free = try #require(
                east["freeAddressesV6"]?.stringValue.flatMap { UInt128($0) }
                    ?? (east["freeAddressesV6"].flatMap { if case .number(let n) = $0 { UInt128(n) } else { nil } }))
            #expect(free > 0 && free < supernet.size, "\(east)")
            #expect(
                east["sizes"]?.arrayValue?.contains {
                    $0["ipVersion"]?.stringValue == "v6" && $0["prefixLength"] == .number("56")
                } == true)
            #expect(east["stock"]?["v6/56"] == .number("3"))
        }
    }
}
