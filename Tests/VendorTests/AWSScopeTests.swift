import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing
import VendorHTTP

/// An Azure scope and an AWS scope with the same supernets (both isolated: separate partitions, as two Azure
/// scopes) behind one real Vendor: requests name the AWS scope by `accountId` and `region`, answers name it by
/// `"cloud": "aws"` and `accountId`, and nothing of one scope reaches the other.
@Suite("AWS scopes over HTTP", .serialized)
struct AWSScopeTests {
    static let subscription = SampleConfiguration.subscription
    static let account = "123456789012"
    static let azurePartition = "\(subscription)_eastus"
    static let awsPartition = "aws_123456789012_us-east-1"
    static let environment: [String: String] = [
        "SUPERNETS_CONFIG": #"""
        [{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16"],"isolated":true}]},
         {"cloud":"aws","accountId":"\#(account)","regions":[{"region":"us-east-1","supernets":["10.64.0.0/16","fd00:64::/44"],"exclude":["10.64.0.0/24"],"isolated":true}]}]
        """#,
        "SCOPE_CONFIG_MANIFEST": #"""
        {"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"},
         "scopes":[{"cloud":"aws","accountId":"\#(account)","region":"us-east-1","stock":{"24":2}}]}
        """#,
        "POOLS_CONFIG": #"""
        [{"name":"aws-team","accountId":"\#(account)","region":"us-east-1","cidr":"10.64.128.0/17","quota":{"maxLeasesPerRequester":2}},
         {"name":"az-team","subscriptionId":"\#(subscription)","region":"eastus","cidr":"10.64.128.0/17","quota":{"maxLeasesPerRequester":2}}]
        """#,
    ]
    static let keys = APIKeys(
        reader: "viewer=viewer-key-1", lease: "alice=alice-key-1,bob=bob-key-1", admin: "ops=ops-key-1")
    static let aws = #""accountId":"123456789012","region":"us-east-1""#

    static func call(_ method: String, _ url: String, _ body: String? = nil, as caller: String = "alice") async throws
        -> HTTPAnswer
    {
        try await HTTPCalls.send(method, url, body: body, headers: ["x-functions-key": "\(caller)-key-1"])
    }

    static func lease(_ url: String, _ fields: String, as caller: String = "alice") async throws -> HTTPAnswer {
        try await call("POST", url + "/api/getNewNetwork", "{\(fields)}", as: caller)
    }

    static func names(_ answer: HTTPAnswer) -> [String] { answer.json?.objectValue?.map(\.0) ?? [] }

    @Test(
        "leases, replays, sessions, pools and quotas, dual-stack, adoption, reservations, host addresses, listings and events in each scope apart; hostile scope names refused with code and field; invariants hold"
    )
    func bothClouds() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: Self.keys) { url, table, _ in
            let supernet = try IPPrefix(parsing: "10.64.0.0/16")

            // Adoption first (its range is free in both scopes): the VPC id is an AWS network's resource id.
            let adopted = try await Self.call(
                "POST", url + "/api/adoptNetwork",
                #"{"SessionId":"adopt-1","cidr":"10.64.100.0/24",\#(Self.aws),"resourceId":"vpc-0123456789abcdef0"}"#,
                as: "ops")
            #expect(adopted.status == 201 && adopted.string("scope") == Self.awsPartition, "\(adopted.text)")
            #expect(adopted.string("cloud") == "aws" && adopted.string("accountId") == Self.account)
            let vnetInAWS = try await Self.call(
                "POST", url + "/api/adoptNetwork",
                #"{"SessionId":"adopt-2","cidr":"10.64.101.0/24",\#(Self.aws),"resourceId":"/subscriptions/\#(Self.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"}"#,
                as: "ops")
            #expect(
                vnetInAWS.status == 400 && vnetInAWS.code == "InvalidField"
                    && vnetInAWS.string("field") == "resourceId",
                "\(vnetInAWS.text)")
            let vpcInAzure = try await Self.call(
                "POST", url + "/api/adoptNetwork",
                #"{"SessionId":"adopt-3","cidr":"10.64.101.0/24","resourceId":"vpc-0123456789abcdef0"}"#, as: "ops")
            #expect(
                vpcInAzure.status == 400 && vpcInAzure.code == "InvalidField"
                    && vpcInAzure.string("field") == "resourceId", "\(vpcInAzure.text)")

            // One SessionId in each scope: two leases, each answered in its own scope's words.
            let azure = try await Self.lease(url, #""SessionId":"s-1","prefixLength":24"#)
            let aws = try await Self.lease(url, #""SessionId":"s-1","prefixLength":24,\#(Self.aws)"#)
            #expect(azure.status == 201 && aws.status == 201, "\(azure.text) \(aws.text)")
            #expect(
                Self.names(azure) == [
                    "leaseId", "sessionId", "cidr", "prefixLength", "scope", "subscription", "region", "state",
                    "cidrV6",
                    "prefixLengthV6", "expiresAt", "tag", "subnets",
                ])
            #expect(
                Self.names(aws) == [
                    "leaseId", "sessionId", "cidr", "prefixLength", "scope", "cloud", "accountId", "region", "state",
                    "cidrV6", "prefixLengthV6", "expiresAt", "tag", "subnets",
                ])
            #expect(azure.string("scope") == Self.azurePartition && azure.string("subscription") == Self.subscription)
            #expect(aws.string("scope") == Self.awsPartition && aws.string("region") == "us-east-1")
            let azureId = try #require(azure.string("leaseId"))
            let awsId = try #require(aws.string("leaseId"))
            #expect(azureId != awsId)
            for answer in [azure, aws] {
                #expect(supernet.contains(try IPPrefix(parsing: try #require(answer.string("cidr")))))
            }

            // Replays land in their own scope; the same SessionId by another caller takes nothing in either.
            let azureAgain = try await Self.lease(url, #""SessionId":"s-1","prefixLength":24"#)
            let awsAgain = try await Self.lease(url, #""SessionId":"s-1","prefixLength":24,\#(Self.aws)"#)
            #expect(azureAgain.status == 200 && azureAgain.string("leaseId") == azureId, "\(azureAgain.text)")
            #expect(awsAgain.status == 200 && awsAgain.string("leaseId") == awsId, "\(awsAgain.text)")
            let squatter = try await Self.lease(url, #""SessionId":"s-1","prefixLength":24,\#(Self.aws)"#, as: "bob")
            #expect(squatter.status == 409 && squatter.code == "SessionOwnedByAnother", "\(squatter.text)")
            let session = try await Self.call(
                "GET", url + "/api/sessions/s-1?accountId=\(Self.account)&region=us-east-1")
            #expect(session.status == 200 && session.string("leaseId") == awsId, "\(session.text)")
            #expect(session.string("cloud") == "aws" && session.json?["subscription"] == nil)

            // Releasing the session in the AWS scope leaves the Azure lease as it was.
            let released = try await Self.call(
                "POST", url + "/api/releaseNetwork", #"{"SessionId":"s-1",\#(Self.aws)}"#)
            #expect(released.status == 200 && released.string("leaseId") == awsId, "\(released.text)")
            let azureStill = try await Self.call("GET", url + "/api/leases/\(azureId)")
            #expect(azureStill.string("state") == "leased" && azureStill.json?["cloud"] == nil, "\(azureStill.text)")
            let awsNow = try await Self.call("GET", url + "/api/leases/\(awsId)")
            #expect(
                awsNow.string("state") == "quarantined" && awsNow.string("accountId") == Self.account, "\(awsNow.text)")
            let renewed = try await Self.call("POST", url + "/api/renewLease", #"{"SessionId":"s-1"}"#)
            #expect(renewed.status == 200 && renewed.string("leaseId") == azureId, "\(renewed.text)")

            // Quotas count per pool, and each scope's pool is its own.
            for (index, pool) in ["aws-team", "aws-team", "az-team", "az-team"].enumerated() {
                let scope = pool == "aws-team" ? "," + Self.aws : ""
                let answer = try await Self.lease(url, #""SessionId":"q-\#(index)","pool":"\#(pool)"\#(scope)"#)
                #expect(answer.status == 201, "\(pool): \(answer.text)")
                #expect(answer.string("scope") == (pool == "aws-team" ? Self.awsPartition : Self.azurePartition))
            }
            let over = try await Self.lease(url, #""SessionId":"q-9","pool":"aws-team""#)
            #expect(over.status == 409 && over.code == "QuotaExceeded", "\(over.text)")
            let overAzure = try await Self.lease(url, #""SessionId":"q-10","pool":"az-team""#)
            #expect(overAzure.status == 409 && overAzure.code == "QuotaExceeded", "\(overAzure.text)")
            let wrongScope = try await Self.lease(
                url, #""SessionId":"q-11","pool":"aws-team","subscriptionId":"\#(Self.subscription)","region":"eastus""#
            )
            #expect(wrongScope.status == 422 && wrongScope.code == "UnknownPool", "\(wrongScope.text)")

            // Dual-stack in the AWS scope, and host addresses inside it.
            let dual = try await Self.lease(
                url, #""SessionId":"d-1","dualStack":true,"prefixLengthV6":56,\#(Self.aws)"#)
            #expect(dual.status == 201 && dual.string("cloud") == "aws", "\(dual.text)")
            let v6 = try IPPrefix(parsing: try #require(dual.string("cidrV6")))
            #expect(try IPPrefix(parsing: "fd00:64::/44").contains(v6))
            let dualId = try #require(dual.string("leaseId"))
            let host = try await Self.call("POST", url + "/api/leases/\(dualId)/ips")
            #expect(host.status == 201 && host.string("leaseId") == dualId, "\(host.text)")
            let block = try IPPrefix(parsing: try #require(dual.string("cidr")))
            #expect(block.contains(try IPPrefix(parsing: try #require(host.string("ip")) + "/32")))

            // Reservations name their scope the same way.
            let reserved = try await Self.call(
                "POST", url + "/api/reservations",
                #"{"cidr":"10.64.121.0/24",\#(Self.aws),"owner":"net","reason":"transit gateway"}"#, as: "ops")
            #expect(reserved.status == 201 && reserved.string("cloud") == "aws", "\(reserved.text)")
            let awsReservations = try await Self.call("GET", url + "/api/reservations?accountId=\(Self.account)")
            let listed = awsReservations.json?["reservations"]?.arrayValue ?? []
            #expect(listed.contains { $0["cidr"]?.stringValue == "10.64.121.0/24" }, "\(awsReservations.text)")
            #expect(listed.allSatisfy { $0["scope"]?.stringValue == Self.awsPartition })
            let azureReservations = try await Self.call(
                "GET", url + "/api/reservations?subscriptionId=\(Self.subscription)")
            #expect(
                (azureReservations.json?["reservations"]?.arrayValue ?? []).allSatisfy {
                    $0["scope"]?.stringValue == Self.azurePartition && $0["cloud"] == nil
                }, "\(azureReservations.text)")

            // Listings by accountId: the AWS scope's leases only, and the other way round.
            let awsLeases = try await Self.call("GET", url + "/api/leases?accountId=\(Self.account)")
            let awsRecords = awsLeases.json?["leases"]?.arrayValue ?? []
            #expect(!awsRecords.isEmpty && awsRecords.allSatisfy { $0["cloud"]?.stringValue == "aws" })
            #expect(awsRecords.contains { $0["leaseId"]?.stringValue == awsId })
            #expect(!awsRecords.contains { $0["leaseId"]?.stringValue == azureId })
            let azureLeases = try await Self.call("GET", url + "/api/leases?subscriptionId=\(Self.subscription)")
            let azureRecords = azureLeases.json?["leases"]?.arrayValue ?? []
            #expect(azureRecords.contains { $0["leaseId"]?.stringValue == azureId })
            #expect(azureRecords.allSatisfy { $0["subscription"]?.stringValue == Self.subscription })
            let events = try await Self.call("GET", url + "/api/events?accountId=\(Self.account)", as: "ops")
            let eventList = events.json?["events"]?.arrayValue ?? []
            #expect(!eventList.isEmpty && eventList.allSatisfy { $0["scope"]?.stringValue == Self.awsPartition })
            #expect(
                eventList.contains { $0["leaseId"]?.stringValue == awsId && $0["action"]?.stringValue == "release" })
            let pools = try await Self.call("GET", url + "/api/pools")
            let reports = pools.json?["pools"]?.arrayValue ?? []
            let awsReport = reports.first { $0["scope"]?.stringValue == Self.awsPartition && $0["pool"] == .null }
            #expect(awsReport?["cloud"]?.stringValue == "aws" && awsReport?["accountId"]?.stringValue == Self.account)
            #expect(awsReport?["subscription"] == nil)
            let azureReport = reports.first { $0["scope"]?.stringValue == Self.azurePartition && $0["pool"] == .null }
            #expect(azureReport?.objectValue?.map(\.0).prefix(4) == ["scope", "subscription", "region", "pool"])

            // Hostile names of a scope: refused with their code and field, nothing leased.
            for (body, code, field) in [
                (#""SessionId":"h-1","accountId":"12345678901","region":"us-east-1""#, "InvalidField", "accountId"),
                (#""SessionId":"h-2","accountId":"1234567890123","region":"us-east-1""#, "InvalidField", "accountId"),
                (#""SessionId":"h-3","accountId":"12345678901a","region":"us-east-1""#, "InvalidField", "accountId"),
                (
                    #""SessionId":"h-4","accountId":"aws_123456789012","region":"us-east-1""#, "InvalidField",
                    "accountId"
                ),
                (#""SessionId":"h-5","accountId":123456789012,"region":"us-east-1""#, "InvalidField", "accountId"),
                (#""SessionId":"h-6","accountId":"123456789012","region":"us-east-1/../x""#, "InvalidField", "region"),
                (
                    #""SessionId":"h-7","subscriptionId":"\#(Self.subscription)","accountId":"123456789012","region":"us-east-1""#,
                    "InvalidField", "accountId"
                ),
                (
                    #""SessionId":"h-8","subscriptionId":"aws_123456789012","region":"us-east-1""#, "InvalidField",
                    "subscriptionId"
                ),
                (
                    #""SessionId":"h-9","subscriptionId":"AWS","region":"123456789012_us-east-1""#, "InvalidField",
                    "subscriptionId"
                ),
                (#""SessionId":"h-10","subscriptionId":"123456789012","region":"us-east-1""#, "UnknownScope", "region"),
                (#""SessionId":"h-11","accountId":"999999999999","region":"us-east-1""#, "UnknownScope", "region"),
            ] {
                let answer = try await Self.lease(url, body)
                #expect(
                    answer.code == code && answer.string("field") == field
                        && answer.status == (code == "UnknownScope" ? 404 : 400), "\(body): \(answer.text)")
            }
            for (query, status, code) in [
                ("accountId=12345678901", 400, "InvalidQuery"), ("accountId=999999999999", 404, "UnknownScope"),
                ("accountId=\(Self.account)&subscriptionId=\(Self.subscription)", 404, "UnknownScope"),
            ] {
                let answer = try await Self.call("GET", url + "/api/leases?" + query)
                #expect(answer.status == status && answer.code == code, "\(query): \(answer.text)")
            }
            for query in [
                "accountId=\(Self.account)&subscriptionId=\(Self.subscription)&region=us-east-1",
                "accountId=\(Self.account)&region=us-east-1/../x",
            ] {
                let answer = try await Self.call("GET", url + "/api/sessions/s-1?" + query)
                #expect(answer.status == 404 && answer.code == "UnknownScope", "\(query): \(answer.text)")
            }
            let badAccount = try await Self.call("GET", url + "/api/sessions/s-1?accountId=1234&region=us-east-1")
            #expect(badAccount.status == 400 && badAccount.string("field") == "accountId", "\(badAccount.text)")

            // Every row of both partitions as the invariant checker wants it.
            for partition in [Self.azurePartition, Self.awsPartition] {
                let rows = try await table.queryAll(filter: "PartitionKey eq '\(partition)'")
                #expect(!rows.isEmpty)
                let problems = InvariantChecker.violations(in: rows)
                #expect(problems.isEmpty, "\(partition): \(problems.prefix(20).joined(separator: "\n"))")
            }
        }
    }
}
