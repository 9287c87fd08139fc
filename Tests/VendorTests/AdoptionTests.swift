import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// `POST /api/adoptNetwork` over HTTP: an existing block leased as it is, once per SessionId; never over
/// anything but free space and stock, however many callers race for the same space.
@Suite("Adoption")
struct AdoptionTests {
    static let admin: HTTPHeaderList = ["x-functions-key": "admin-key-1"]

    /// An adoption; 503 `Busy` (head contention outlasting the deadline on a loaded machine) is retried as a client
    /// would: nothing was adopted, so the same body is safe to send again.
    static func adopt(_ url: String, _ body: String, headers: HTTPHeaderList = admin) async throws -> HTTPAnswer {
        try await HTTPCalls.sendRetryingBusy("POST", url + "/api/adoptNetwork", body: body, headers: headers)
    }

    static func stock(_ table: TableClient, length: Int) async throws -> [IPPrefix] {
        try await table.queryAll(
            filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus' and State eq 'available'"
        ).compactMap(NetworkRow.init(entity:))
            .map(\.prefix).filter { $0.length == length }.sorted()
    }

    @Test(
        "free space, inside stock (split, the rest back to stock), refusals with codes; admins only; nothing written by a refusal"
    )
    func adoptAndRefuse() async throws {
        try await VendorHarness.withVendor(roleKeys: ReservationTests.keys) { url, table, _ in
            let leased = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"ad-1","prefixLength":24}"#,
                headers: ["x-functions-key": "ci-key-1"])
            let leasedBlock = try #require(leased.string("cidr"))
            let free = try await Self.adopt(
                url, #"{"SessionId":"ad-free","cidr":"10.64.220.0/23","requester":"migration"}"#)
            #expect(
                free.status == 201 && free.string("cidr") == "10.64.220.0/23"
                    && free.json?["prefixLength"] == .number("23") && free.string("expiresAt") != nil, "\(free.text)")
            let twentyFours = try await Self.stock(table, length: 24)
            let inner = IPPrefix(address: twentyFours[0].address, length: 26)!
            let split = try await Self.adopt(url, #"{"SessionId":"ad-split","cidr":"\#(inner)"}"#)
            #expect(split.status == 201, "\(split.text)")
            let after = try await table.queryAll(
                filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:)).map(\.prefix)
            #expect(
                Set(after).isSuperset(of: FreeSpace.freeBlocks(in: twentyFours[0], occupied: [inner]))
                    && !after.contains(twentyFours[0]))
            try await ReservationTests.checkInvariants(table)

            let rowsBefore = try await table.queryAll(
                filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus'"
            ).count
            let overlap = try await Self.adopt(url, #"{"SessionId":"ad-overlap","cidr":"\#(leasedBlock)"}"#)
            #expect(
                overlap.status == 409 && overlap.code == "Overlap"
                    && overlap.json?["details"]?["conflicts"]?.stringValue?.contains("\(leasedBlock) (leased") == true,
                "\(overlap.text)")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.220.0/24"}"#).code == "Overlap",
                "inside an adopted block")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.0.0/26"}"#).code == "Overlap",
                "the configured exclusion")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"192.168.0.0/24"}"#).code == "OutsideSupernets")
            #expect(try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.1.7/24"}"#).code == "InvalidField")
            #expect(try await Self.adopt(url, #"{"SessionId":"ad-x"}"#).code == "MissingField")
            #expect(try await Self.adopt(url, #"{"cidr":"10.64.230.0/24"}"#).code == "MissingField")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.230.0/24","resourceId":"vnet-1"}"#).code
                    == "InvalidField")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.230.0/24","prefixLength":24}"#).code
                    == "UnknownField")
            #expect(
                try await Self.adopt(url, #"{"SessionId":"ad-x","cidr":"10.64.230.0/24","region":"mars"}"#).code
                    == "UnknownScope")
            let forbidden = try await Self.adopt(
                url, #"{"SessionId":"ad-x","cidr":"10.64.230.0/24"}"#, headers: ["x-functions-key": "ci-key-1"])
            #expect(forbidden.status == 403 && forbidden.code == "Forbidden")
            #expect(
                try await table.queryAll(filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus'").count
                    == rowsBefore, "refusals write nothing")

            // The adopted lease is a lease like any other: listed, released by its owner (the admin who adopted it).
            let leaseId = try #require(free.string("leaseId"))
            let shown = try await HTTPCalls.send("GET", url + "/api/leases/\(leaseId)", headers: Self.admin)
            #expect(
                shown.status == 200 && shown.string("cidr") == "10.64.220.0/23"
                    && shown.string("requester") == "migration", "\(shown.text)")
            let released = try await HTTPCalls.send(
                "POST", url + "/api/releaseNetwork", body: #"{"SessionId":"ad-free"}"#, headers: Self.admin)
            #expect(released.status == 200, "\(released.text)")
            try await ReservationTests.checkInvariants(table)
        }
    }

    @Test(
        "24 claims race an adoption of a stocked block, 8 callers adopt with one SessionId, 12 adopt overlapping blocks: every block held once, one lease per session, the invariants hold"
    )
    func racing() async throws {
        try await VendorHarness.withVendor(
            environment: [
                "SCOPE_CONFIG_MANIFEST":
                    #"{"defaultScope":{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus","stock":{"24":12}}]}"#
            ], roleKeys: ReservationTests.keys
        ) { url, table, _ in
            let warm = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"warm","prefixLength":24}"#,
                headers: ["x-functions-key": "ci-key-1"])
            let target = try #require(try await Self.stock(table, length: 24).dropFirst(2).first)
            let admin = Self.admin
            // Overlapping candidates on free space: a /22, its two /23s and its four /24s.
            let overlapping = [
                "10.64.248.0/22", "10.64.248.0/23", "10.64.250.0/23", "10.64.248.0/24", "10.64.249.0/24",
                "10.64.250.0/24", "10.64.251.0/24",
            ]
            let answers = try await withThrowingTaskGroup(of: (String, HTTPAnswer).self) { group in
                group.addTask {
                    (
                        "target",
                        try await Self.adopt(url, #"{"SessionId":"adopt-target","cidr":"\#(target)"}"#, headers: admin)
                    )
                }
                for index in 0..<24 {
                    let body = #"{"SessionId":"race-\#(index)","prefixLength":24}"#
                    group.addTask {
                        (
                            "claim",
                            // Busy (contention outlasting a deadline on a loaded machine) is retried like a client.
                            try await HTTPCalls.sendRetryingBusy(
                                "POST", url + "/api/getNewNetwork", body: body, headers: ["x-functions-key": "ci-key-1"]
                            )
                        )
                    }
                }
                for _ in 0..<8 {
                    group.addTask {
                        (
                            "same",
                            try await Self.adopt(
                                url, #"{"SessionId":"adopt-same","cidr":"10.64.244.0/24"}"#, headers: admin)
                        )
                    }
                }
                for (index, prefix) in overlapping.enumerated() {
                    let body = #"{"SessionId":"adopt-overlap-\#(index)","cidr":"\#(prefix)"}"#
                    group.addTask { ("overlap", try await Self.adopt(url, body, headers: admin)) }
                }
                var all: [(String, HTTPAnswer)] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            let claims = answers.filter { $0.0 == "claim" }.map(\.1)
            #expect(
                claims.allSatisfy { $0.status == 201 },
                "\(claims.filter { $0.status != 201 }.map { "\($0.status) \($0.text)" }.prefix(3))")
            let targetAnswer = try #require(answers.first { $0.0 == "target" }?.1)
            if targetAnswer.status == 201 {
                #expect(!claims.contains { $0.string("cidr") == target.description }, "the adopted block was vended")
            } else {
                #expect(
                    targetAnswer.code == "Overlap" && claims.contains { $0.string("cidr") == target.description },
                    "\(targetAnswer.text)")
            }
            let same = answers.filter { $0.0 == "same" }.map(\.1)
            #expect(
                Set(same.compactMap { $0.string("leaseId") }).count == 1
                    && same.allSatisfy { $0.status == 200 || $0.status == 201 },
                "\(same.map { "\($0.status) \($0.text)" })")
            #expect(same.filter { $0.status == 201 }.count == 1, "one caller created it, the others replayed it")
            var won: [IPPrefix] = []
            for (kind, answer) in answers where kind == "overlap" && answer.status == 201 {
                if let cidr = answer.string("cidr"), let block = try? IPPrefix(parsing: cidr) { won.append(block) }
            }
            var claimed: [IPPrefix] = []
            for answer in claims {
                if let cidr = answer.string("cidr"), let block = try? IPPrefix(parsing: cidr) { claimed.append(block) }
            }
            #expect(claimed.count == 24)
            // The claims may carve inside the candidates' space too: every candidate is then refused, rightly. A
            // candidate no claim (nor the warm-up lease) overlaps is refused only because another candidate won.
            let leased = claimed + [warm.string("cidr").flatMap { try? IPPrefix(parsing: $0) }].compactMap { $0 }
            let uncontested = overlapping.compactMap { try? IPPrefix(parsing: $0) }.filter { candidate in
                !leased.contains { $0.overlaps(candidate) }
            }
            #expect(
                !won.isEmpty || uncontested.isEmpty,
                "\(uncontested) were free of leases, yet no overlapping adoption won: \(answers.filter { $0.0 == "overlap" }.map { "\($0.1.status) \($0.1.text.prefix(160))" })"
            )
            for (i, a) in won.enumerated() {
                for b in won[(i + 1)...] { #expect(!a.overlaps(b), "\(a) and \(b) were both adopted") }
            }
            #expect(
                !won.contains { block in claimed.contains { $0.overlaps(block) } }, "an adopted block was also vended")
            let refused = answers.filter { $0.0 == "overlap" && $0.1.status != 201 }.map(\.1)
            #expect(
                refused.allSatisfy { $0.code == "Overlap" }, "\(refused.map { "\($0.status) \($0.text.prefix(200))" })")
            try await ReservationTests.checkInvariants(table)
        }
    }
}
