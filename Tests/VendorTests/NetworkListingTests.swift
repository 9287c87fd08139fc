import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import StrictJSON
import TestSupport
import Testing
import VendorHTTP

/// `GET /api/networks` over a real Vendor and storage, from statuses recorded as a Manager records them: one scope's
/// networks never show in another's answer, pages cover each network once, a reader may ask and nobody without a
/// key, bad input is refused naming its field; and recording writes only what changed.
@Suite("Network listing")
struct NetworkListingTests {
    static let keys = APIKeys(reader: "viewer=reader-key-1", lease: "ci=lease-key-1", admin: "ops=admin-key-1")
    static let reader: HTTPHeaderList = ["x-functions-key": "reader-key-1"]
    static let eastus = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
    static let westeurope = Scope(subscriptionId: SampleConfiguration.subscription, region: "westeurope")
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func vnet(_ name: String) -> String {
        "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)"
    }

    static let east: [NetworkStatus] = [
        NetworkStatus(
            resourceId: vnet("app"), cidrs: ["10.64.1.0/24"], status: .compliant, reason: "anchored to lease l-1",
            leaseId: "l-1"),
        NetworkStatus(
            resourceId: vnet("hub"), cidrs: ["10.64.200.0/24"], status: .unmanaged, reason: "no lease names it"),
        NetworkStatus(
            resourceId: vnet("far"), cidrs: ["192.168.0.0/24"], status: .noncompliant, reason: "outside"),
    ]
    static let west = [
        NetworkStatus(
            resourceId: vnet("secret-west"), cidrs: ["10.72.9.0/24"], status: .noncompliant, reason: "overlaps")
    ]

    static func get(_ url: String, _ query: String, _ headers: HTTPHeaderList = reader) async throws -> HTTPAnswer {
        try await HTTPCalls.send("GET", url + "/api/networks" + query, headers: headers)
    }

    /// A continuation token as the Vendor spells one (`v1.` and base64url of `{partition}/{row key}`).
    static func token(_ position: String) -> String {
        "v1."
            + Data(position.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func ids(_ answer: HTTPAnswer) -> [String] {
        answer.json?["networks"]?.arrayValue?.compactMap {
            $0["resourceId"]?.stringValue?.split(separator: "/").last.map(String.init)
        } ?? []
    }

    @Test(
        "a reader lists a scope's networks (every field, address order), filtered by status; another scope's never show; limit 1 pages each once; no key 401"
    )
    func listing() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let inventory = Inventory(table: table, actor: "manager-test")
            _ = try await inventory.recordNetworkStatuses(Self.east, in: Self.eastus, complete: true, now: Self.start)
            _ = try await inventory.recordNetworkStatuses(
                Self.west, in: Self.westeurope, complete: true, now: Self.start)
            let query = "?subscriptionId=\(SampleConfiguration.subscription)&region=eastus"
            let answer = try await Self.get(url, query)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(Self.ids(answer) == ["app", "hub", "far"], "address order: \(answer.text)")
            #expect(answer.json?["continuation"] == .null)
            let app = try #require(answer.json?["networks"]?.arrayValue?.first)
            #expect(
                app.serialized()
                    == #"{"resourceId":"\#(Self.vnet("app"))","scope":"\#(Self.eastus.partitionKey)","subscription":"\#(SampleConfiguration.subscription)","region":"eastus","cidrs":["10.64.1.0/24"],"status":"compliant","reason":"anchored to lease l-1","leaseId":"l-1","since":"\#(ISO8601.format(Self.start))"}"#,
                "\(app.serialized())")
            #expect(Self.ids(try await Self.get(url, query + "&status=noncompliant")) == ["far"])
            #expect(Self.ids(try await Self.get(url, query + "&status=unmanaged,compliant")) == ["app", "hub"])
            #expect(Self.ids(try await Self.get(url, query + "&status=ignored")) == [])
            #expect(!Self.ids(try await Self.get(url, "?region=eastus&status=noncompliant")).contains("secret-west"))
            #expect(Self.ids(try await Self.get(url, "?scope=\(Self.westeurope.partitionKey)")) == ["secret-west"])
            #expect(Self.ids(try await Self.get(url, "")) == ["app", "hub", "far", "secret-west"], "scopes in order")

            var seen: [String] = []
            var continuation: String? = nil
            repeat {
                let page = try await Self.get(url, "?limit=1" + (continuation.map { "&continuation=\($0)" } ?? ""))
                #expect(page.status == 200, "\(page.text)")
                seen += Self.ids(page)
                continuation = page.json?["continuation"]?.stringValue
            } while continuation != nil && seen.count < 10
            #expect(seen == ["app", "hub", "far", "secret-west"])

            // A cursor naming the other scope's partition, asked of this scope: it reads this scope only.
            let foreign = Self.token("\(Self.westeurope.partitionKey)/\(RowKeys.networkStatusPrefix)")
            let crafted = try await Self.get(url, query + "&continuation=\(foreign)")
            #expect(crafted.status == 200 && !Self.ids(crafted).contains("secret-west"), "\(crafted.text)")

            let anonymous = try await Self.get(url, query, [:])
            #expect(anonymous.status == 401)
        }
    }

    @Test(
        "bad input names its field: an unknown status (or an empty one, or another case), an unknown scope, a malformed account, a page size out of range, an unknown parameter, another listing's token"
    )
    func badInput() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let cases: [(String, Int, String, String)] = [
                ("?status=fine", 400, "InvalidQuery", "status"),
                ("?status=", 400, "InvalidQuery", "status"),
                ("?status=compliant,,ignored", 400, "InvalidQuery", "status"),
                ("?status=COMPLIANT", 400, "InvalidQuery", "status"),
                ("?region=mars", 404, "UnknownScope", "region"),
                ("?subscriptionId=aws_123456789012&region=eastus", 404, "UnknownScope", "region"),
                ("?scope=someone-else_eastus", 404, "UnknownScope", "scope"),
                ("?accountId=1234&region=us-east-1", 400, "InvalidQuery", "accountId"),
                ("?accountId=999999999999&region=us-east-1", 404, "UnknownScope", "region"),
                ("?limit=0", 400, "InvalidQuery", "limit"),
                ("?limit=1001", 400, "InvalidQuery", "limit"),
                ("?color=red", 400, "InvalidQuery", "color"),
                ("?region=eastus&region=westeurope", 400, "InvalidQuery", "region"),
                ("?continuation=bm90LWEtdG9rZW4", 400, "InvalidContinuation", "continuation"),
            ]
            for (query, status, code, field) in cases {
                let answer = try await Self.get(url, query)
                #expect(
                    answer.status == status && answer.code == code && answer.string("field") == field,
                    "\(query): \(answer.status) \(answer.text)")
                #expect(answer.json?["requestId"] != nil && !answer.text.contains("127.0.0.1"), "the one error shape")
            }
            // A lease listing's continuation (a position among `net_` rows) is not this listing's.
            let token = Self.token("\(Self.eastus.partitionKey)/\(RowKeys.networkPrefix)010.064.001.000_24")
            let other = try await Self.get(url, "?continuation=\(token)")
            #expect(other.status == 400 && other.code == "InvalidContinuation", "\(other.text)")
        }
    }

    @Test(
        "recording: the same judgement again writes nothing; a new reason keeps `since`, a new status starts it; a network not listed goes only when the listing was complete"
    )
    func recording() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { _, table, _ in
            let inventory = Inventory(table: table, actor: "manager-test")
            let first = try await inventory.recordNetworkStatuses(
                Self.east, in: Self.eastus, complete: true, now: Self.start)
            #expect(first.written == 3 && first.transactions == 1)
            let again = try await inventory.recordNetworkStatuses(
                Self.east, in: Self.eastus, complete: true, now: Self.start.addingTimeInterval(60))
            #expect(again == NetworkStatusWrites(), "an unchanged world writes nothing")

            var changed = Self.east
            changed[1].reason = "no lease names it (another wording)"
            changed[2].status = .ignored
            let later = Self.start.addingTimeInterval(120)
            let second = try await inventory.recordNetworkStatuses(changed, in: Self.eastus, complete: true, now: later)
            #expect(second.written == 2 && second.deleted == 0)
            let stored = Dictionary(
                uniqueKeysWithValues: try await inventory.networkStatuses(in: Self.eastus).map {
                    ($0.value.resourceId, $0.value)
                })
            #expect(
                stored[Self.vnet("hub")]?.since == Self.start && stored[Self.vnet("hub")]?.reason == changed[1].reason)
            #expect(stored[Self.vnet("far")]?.since == later && stored[Self.vnet("far")]?.status == .ignored)

            let incomplete = try await inventory.recordNetworkStatuses(
                [changed[0]], in: Self.eastus, complete: false, now: later)
            #expect(incomplete == NetworkStatusWrites(), "not listed in an incomplete listing: kept")
            let complete = try await inventory.recordNetworkStatuses(
                [changed[0]], in: Self.eastus, complete: true, now: later)
            #expect(complete.deleted == 2 && complete.written == 0)
            #expect(try await inventory.networkStatuses(in: Self.eastus).map(\.value.resourceId) == [Self.vnet("app")])
        }
    }
}
