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

/// `GET /api/usage`: an area's samples and forecast over HTTP, and every bad query refused naming its field.
@Suite("Usage API")
struct UsageRouteTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "ci=ci-key-1", admin: nil)
    static let pools = #"[{"name":"team","cidr":"10.64.128.0/20","stock":{"26":2}}]"#
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")

    static func get(_ url: String, _ query: String, key: String? = "reader-key-1") async throws -> HTTPAnswer {
        var headers: HTTPHeaderList = [:]
        if let key { headers["x-functions-key"] = key }
        return try await HTTPCalls.send(
            "GET", url + "/api/usage" + (query.isEmpty ? "" : "?" + query), headers: headers)
    }

    @Test(
        "the pool's hourly samples and a runs-out forecast; the scope's own space without pool; steps downsample; bad queries are 400/404 naming the field"
    )
    func usage() async throws {
        let time = ManualTime(start: Date(timeIntervalSince1970: 1_900_000_000))
        try await VendorHarness.withVendor(
            environment: ["POOLS_CONFIG": Self.pools], roleKeys: Self.keys, time: time.source
        ) { url, table, _ in
            let inventory = Inventory(table: table, actor: "manager-test")
            // Ten days of hourly samples: the pool's unused space falls by 100 addresses an hour.
            for hour in 0...240 {
                var sample = UsageSample(at: time.now.addingTimeInterval(-Double(240 - hour) * 3_600))
                sample.free = UInt128(50_000 - hour * 100)
                sample.leased = UInt128(hour * 100)
                sample.leases = hour
                sample.freeBlocks = [26: UInt64(780 - hour * 2)]
                try await inventory.recordUsage(
                    [AreaSample(pool: "team", version: .v4, sample: sample)], in: Self.scope)
            }
            let answer = try await Self.get(url, "pool=team")
            #expect(answer.status == 200, "\(answer.text)")
            let json = try #require(answer.json)
            #expect(json["scope"]?.stringValue == Self.scope.partitionKey && json["pool"]?.stringValue == "team")
            #expect(json["ipVersion"]?.stringValue == "v4" && json["step"] == .number("300"))
            let samples = try #require(json["samples"]?.arrayValue)
            // The last day, from the 5-minute tier: one sample an hour was written, so 25 points.
            #expect(samples.count == 25, "\(samples.count)")
            #expect(samples.last?["free"] == .number("26000") && samples.last?["leases"] == .number("240"))
            #expect(samples.last?["freeBlocks"]?.arrayValue?.first?["prefixLength"] == .number("26"))
            let week = try #require(json["forecast"]?["unusedAddresses"]?["last7Days"])
            #expect(week["status"]?.stringValue == "runs-out", "\(week)")
            // 26,000 left at 2,400 a day.
            let days = try #require(week["daysLeft"].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } })
            #expect(abs(days - 26_000.0 / 2_400.0) < 0.01)
            #expect(json["forecast"]?["unusedAddresses"]?["last30Days"]?["status"]?.stringValue == "runs-out")
            let size = try #require(json["forecast"]?["sizes"]?.arrayValue?.first)
            #expect(size["prefixLength"] == .number("26") && size["last7Days"]?["status"]?.stringValue == "runs-out")

            // Ten days at a 6-hour step: from the hourly tier, at most one point per step.
            let since = ISO8601.format(time.now.addingTimeInterval(-10 * 86_400))
            let coarse = try await Self.get(url, "pool=team&since=\(since)&step=21600")
            #expect(coarse.status == 200, "\(coarse.text)")
            let points = try #require(coarse.json?["samples"]?.arrayValue)
            #expect(points.count >= 40 && points.count <= 41, "\(points.count)")

            // The scope's own space: no samples yet, insufficient data.
            let own = try await Self.get(url, "subscriptionId=\(SampleConfiguration.subscription)&region=eastus")
            #expect(own.status == 200 && own.json?["pool"] == .null, "\(own.text)")
            #expect(own.json?["samples"]?.arrayValue?.isEmpty == true)
            #expect(
                own.json?["forecast"]?["unusedAddresses"]?["last7Days"]?["status"]?.stringValue == "insufficient-data")
            #expect(
                own.json?["forecast"]?["sizes"]?.arrayValue?.map { $0["prefixLength"] } == [
                    .number("22"), .number("24"),
                ])

            // Bad queries.
            let cases: [(String, Int, String, String)] = [
                ("pool=nope", 404, "NotFound", "pool"),
                ("region=mars", 404, "UnknownScope", "region"),
                ("subscriptionId=22222222-2222-2222-2222-222222222222", 404, "UnknownScope", "region"),
                ("pool=team&region=westeurope", 404, "NotFound", "pool"),
                ("ipVersion=v6", 404, "NotFound", "ipVersion"),
                ("pool=team&ipVersion=v6", 404, "NotFound", "ipVersion"),
                ("ipVersion=v5", 400, "InvalidQuery", "ipVersion"),
                ("since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", 400, "InvalidQuery", "until"),
                ("until=yesterday", 400, "InvalidQuery", "until"),
                ("step=299", 400, "InvalidQuery", "step"),
                ("step=-5", 400, "InvalidQuery", "step"),
                ("step=99999999999999999999", 400, "InvalidQuery", "step"),
                ("since=2026-01-01T00:00:00Z&until=2026-12-01T00:00:00Z&step=300", 400, "InvalidQuery", "step"),
                ("pool=team&pool=team", 400, "InvalidQuery", "pool"),
                ("cidr=10.0.0.0/8", 400, "InvalidQuery", "cidr"),
            ]
            for (query, status, code, field) in cases {
                let refused = try await Self.get(url, query)
                #expect(
                    refused.status == status && refused.code == code && refused.json?["field"]?.stringValue == field,
                    "\(query): \(refused.status) \(refused.text)")
            }
            // A long range without a step gets the finest step that keeps to 1000 points.
            let year = try await Self.get(url, "pool=team&since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z")
            #expect(year.status == 200 && year.json?["step"] == .number("31536"), "\(year.text)")
            #expect(try await Self.get(url, "pool=team", key: nil).status == 401)
            #expect(try await Self.get(url, "pool=team", key: "ci-key-1").status == 200, "a lease key may read too")
        }
    }
}
