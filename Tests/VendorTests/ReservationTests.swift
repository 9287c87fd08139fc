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

/// Reservations over HTTP: held ranges are never vended or carved over; stock is taken out or split; overlaps
/// are listed; operators only.
@Suite("Reservations")
struct ReservationTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "ci=ci-key-1", admin: "operator=admin-key-1")
    static let admin: HTTPHeaderList = ["x-functions-key": "admin-key-1"]

    static func reserve(_ url: String, _ body: String, headers: HTTPHeaderList = admin) async throws -> HTTPAnswer {
        try await HTTPCalls.send("POST", url + "/api/reservations", body: body, headers: headers)
    }

    static func checkInvariants(_ table: TableClient) async throws {
        let problems = try await Inventory(table: table, actor: "test").violations(
            in: Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus"))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(
        "reserve free space, stocked blocks (taken out or split) and by size; overlaps listed; outside refused; delete idempotent; configured exclusions read-only; operators only"
    )
    func lifecycle() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let leased = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"res-1","prefixLength":24}"#,
                headers: ["x-functions-key": "ci-key-1"])
            let leasedBlock = try #require(leased.string("cidr"))
            let free = try await Self.reserve(
                url, #"{"cidr":"10.64.200.0/24","owner":"network-team","reason":"on-premises link"}"#)
            #expect(
                free.status == 201 && free.string("cidr") == "10.64.200.0/24" && free.json?["readOnly"] == .bool(false),
                "\(free.text)")
            let freeId = try #require(free.string("reservationId"))

            // Stock: a whole stocked block is taken out of stock; a range inside one splits it.
            let stock = try await table.queryAll(
                filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
            let twentyFours = stock.filter { $0.prefix.length == 24 }.map(\.prefix).sorted()
            #expect(twentyFours.count >= 2, "the sample keeps /24 stock")
            let whole = try await Self.reserve(
                url, #"{"cidr":"\#(twentyFours[0])","owner":"ops","reason":"whole stocked block"}"#)
            #expect(whole.status == 201, "\(whole.text)")
            let inner = IPPrefix(address: twentyFours[1].address, length: 26)!
            let split = try await Self.reserve(
                url,
                #"{"cidr":"\#(inner)","owner":"ops","reason":"part of a stocked block","expiresAt":"2999-01-01T00:00:00Z"}"#
            )
            #expect(split.status == 201 && split.string("expiresAt") == "2999-01-01T00:00:00.000Z", "\(split.text)")
            let after = try await table.queryAll(
                filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:)).map(\.prefix)
            #expect(!after.contains(twentyFours[0]) && !after.contains(twentyFours[1]))
            #expect(
                Set(after).isSuperset(of: FreeSpace.freeBlocks(in: twentyFours[1], occupied: [inner])),
                "the rest of the split block is stock again")
            try await Self.checkInvariants(table)

            // By size: the smallest free block, clear of everything.
            let sized = try await Self.reserve(url, #"{"prefixLength":27,"owner":"ops","reason":"by size"}"#)
            let sizedBlock = try IPPrefix(parsing: try #require(sized.string("cidr")))
            #expect(sized.status == 201 && sizedBlock.length == 27)

            // Refusals.
            let overlap = try await Self.reserve(
                url, #"{"cidr":"\#(leasedBlock)","owner":"ops","reason":"a leased block"}"#)
            #expect(
                overlap.status == 409 && overlap.code == "Overlap"
                    && overlap.json?["details"]?["conflicts"]?.stringValue?.contains("\(leasedBlock) (leased") == true,
                "\(overlap.text)")
            let again = try await Self.reserve(
                url, #"{"cidr":"10.64.200.128/25","owner":"ops","reason":"inside a reservation"}"#)
            #expect(again.code == "Overlap" && again.text.contains("reserved"), "\(again.text)")
            #expect(
                try await Self.reserve(url, #"{"cidr":"10.64.0.0/25","owner":"ops","reason":"the exclusion"}"#).code
                    == "Overlap")
            #expect(
                try await Self.reserve(url, #"{"cidr":"192.168.0.0/24","owner":"ops","reason":"elsewhere"}"#).code
                    == "OutsideSupernets")
            #expect(
                try await Self.reserve(url, #"{"cidr":"10.64.1.0/24","prefixLength":24,"owner":"ops","reason":"both"}"#)
                    .code == "InvalidField")
            #expect(try await Self.reserve(url, #"{"cidr":"10.64.1.0/24","reason":"no owner"}"#).code == "MissingField")
            #expect(
                try await Self.reserve(url, #"{"cidr":"10.64.1.7/24","owner":"ops","reason":"host bits"}"#).code
                    == "InvalidField")
            #expect(
                try await Self.reserve(url, #"{"cidr":"10.64.1.0/24","owner":"ops","reason":"pool","pool":"team-a"}"#)
                    .code == "UnknownPool")
            #expect(
                try await Self.reserve(
                    url, #"{"cidr":"10.64.1.0/24","owner":"ops","reason":"past","expiresAt":"2001-01-01T00:00:00Z"}"#
                ).code == "InvalidField")
            let forbidden = try await Self.reserve(
                url, #"{"cidr":"10.64.1.0/24","owner":"ops","reason":"not an admin"}"#,
                headers: ["x-functions-key": "ci-key-1"])
            #expect(forbidden.status == 403 && forbidden.code == "Forbidden")

            // Listed, with the configured exclusion as a read-only one; readers may look.
            let listed = try await HTTPCalls.send(
                "GET", url + "/api/reservations?region=eastus", headers: ["x-functions-key": "reader-key-1"])
            let items = listed.json?["reservations"]?.arrayValue ?? []
            #expect(items.count == 5, "\(listed.text)")
            #expect(
                items.first?["readOnly"] == .bool(true) && items.first?["cidr"]?.stringValue == "10.64.0.0/24"
                    && items.first?["reason"]?.stringValue == "configuration")
            #expect(
                try await HTTPCalls.send("GET", url + "/api/reservations?owner=network-team", headers: Self.admin)
                    .json?["reservations"]?.arrayValue?.count == 1)

            // Never vended: many leases later, none overlaps a reserved range.
            let reserved = items.compactMap { $0["cidr"]?.stringValue }.compactMap { try? IPPrefix(parsing: $0) }
            for index in 0..<24 {
                let answer = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork",
                    body: #"{"SessionId":"res-many-\#(index)","prefixLength":\#(index % 2 == 0 ? 24 : 26)}"#,
                    headers: ["x-functions-key": "ci-key-1"])
                let block = try IPPrefix(parsing: try #require(answer.string("cidr"), "\(answer.text)"))
                #expect(!reserved.contains { $0.overlaps(block) }, "\(block) overlaps a reservation")
            }
            try await Self.checkInvariants(table)

            // Ended: the range is free again (not stock); ending again does nothing; a configured one cannot be ended.
            let ended = try await HTTPCalls.send("DELETE", url + "/api/reservations/\(freeId)", headers: Self.admin)
            #expect(ended.json?["released"] == .bool(true) && ended.string("cidr") == "10.64.200.0/24", "\(ended.text)")
            #expect(
                try await HTTPCalls.send("DELETE", url + "/api/reservations/\(freeId)", headers: Self.admin).json?[
                    "released"] == .bool(false))
            let configured = try #require(items.first?["reservationId"]?.stringValue)
            #expect(
                try await HTTPCalls.send("DELETE", url + "/api/reservations/\(configured)", headers: Self.admin).code
                    == "ReservationReadOnly")
            #expect(
                try await Self.reserve(url, #"{"cidr":"10.64.200.0/24","owner":"ops","reason":"again"}"#).status == 201,
                "free space again")
            try await Self.checkInvariants(table)
        }
    }

    @Test(
        "a reservation over stock while 24 claims race for it: one wins each block, nothing is vended inside the reservation, the invariants hold"
    )
    func racingClaims() async throws {
        try await VendorHarness.withVendor(
            environment: [
                "SCOPE_CONFIG_MANIFEST":
                    #"{"defaultScope":{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus","stock":{"24":12}}]}"#
            ], roleKeys: Self.keys
        ) { url, table, _ in
            _ = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"warm","prefixLength":24}"#,
                headers: ["x-functions-key": "ci-key-1"])
            let stock = try await table.queryAll(
                filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
                .map(\.prefix).filter { $0.length == 24 }.sorted()
            let target = try #require(stock.dropFirst(2).first)
            let admin = Self.admin
            let body = #"{"cidr":"\#(target)","owner":"ops","reason":"race"}"#
            async let reserving = HTTPCalls.send("POST", url + "/api/reservations", body: body, headers: admin)
            let claims = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for index in 0..<24 {
                    let session = #"{"SessionId":"race-\#(index)","prefixLength":24}"#
                    group.addTask {
                        try await HTTPCalls.sendRetryingBusy(
                            "POST", url + "/api/getNewNetwork", body: session, headers: ["x-functions-key": "ci-key-1"])
                    }
                }
                var answers: [HTTPAnswer] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            let reservation = try await reserving
            let leases: [String] = claims.compactMap { answer in answer.json?["cidr"]?.stringValue }
            if reservation.status == 201 {
                #expect(!leases.contains(target.description), "the reserved block was vended")
            } else {
                #expect(
                    reservation.code == "Overlap" && leases.contains(target.description),
                    "refused only because a claim took it first: \(reservation.text)")
            }
            #expect(leases.count == 24, "\(claims.map { "\($0.status) \($0.text.prefix(100))" }.prefix(3))")
            try await Self.checkInvariants(table)
        }
    }
}
