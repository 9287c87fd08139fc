import Foundation
import IPAMCore
import Testing
import VendorAPI

@testable import VendorConsole

/// The pools page's model from the API's answer types: the hierarchy, each area's tables, the forecast rows.
@Suite("Console pools page model")
struct ConsolePoolsPageTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func report(pool: String?, parent: String? = nil, usage: [API.Pools.Usage] = []) -> API.Pools.Report {
        API.Pools.Report(
            scope: "sub_eastus", subscription: "sub", region: "eastus", pool: pool, freeAddresses: 1024,
            largestFreePrefixLength: pool == nil ? nil : 22, freeAddressesV6: 0, largestFreePrefixLengthV6: nil,
            sizes: [
                API.Pools.Size(
                    prefixLength: 24, ipVersion: "v4",
                    states: API.Counts(
                        NetworkState.allCases.map { API.Counts.Entry($0.rawValue, $0 == .leased ? 3 : 1) }))
            ],
            stock: API.Counts([API.Counts.Entry("24", 4), API.Counts.Entry("v6/64", 2)]),
            definition: pool.map { _ in
                API.Pools.Definition(
                    parent: parent, cidr: "10.0.0.0/20", owner: nil, labels: ["b": "2", "a": "1"],
                    rules: API.Pools.Rules(
                        minPrefixLength: 22, maxPrefixLength: 26, defaultPrefixLength: 24, requiredTags: [],
                        allowedRequesters: nil),
                    quota: API.Pools.Quota(maxLeasesPerRequester: nil, maxAddressesPerRequester: 1024), usage: usage)
            })
    }

    static let pool = report(pool: "child", parent: "root", usage: [.init(requester: "ci", leases: 2, addresses: 512)])

    static let forecast = API.Usage.Forecast(
        unusedAddresses: .init(
            last7Days: .init(status: "runs-out", runsOutAt: now, daysLeft: 10.8333, ratePerDay: -2400, samples: 168),
            last30Days: .init(status: "insufficient-data", runsOutAt: nil, daysLeft: nil, ratePerDay: nil, samples: 3)),
        sizes: [
            .init(
                prefixLength: 26,
                last7Days: .init(status: "not-running-out", runsOutAt: nil, daysLeft: nil, ratePerDay: 0, samples: 9),
                last30Days: .init(
                    status: "not-running-out", runsOutAt: nil, daysLeft: nil, ratePerDay: 0.04, samples: 9))
        ])

    @Test("the hierarchy names each pool's ancestors; a scope's own space has no rules, quota or usage")
    func hierarchyAndAreas() {
        let page = PoolsPage([
            (report: Self.report(pool: nil), forecasts: []),
            (report: Self.report(pool: "root"), forecasts: []),
            (report: Self.pool, forecasts: [(version: "v4", forecast: Self.forecast)]),
        ])
        #expect(page.hierarchy.map(\.path) == ["sub_eastus", "sub_eastus › root", "sub_eastus › root › child"])
        #expect(page.hierarchy.map(\.parent) == ["", "", "root"])
        #expect(page.hierarchy[0].cidr == "the scope's supernets" && page.hierarchy[2].cidr == "10.0.0.0/20")
        let own = page.areas[0]
        #expect(!own.isPool && own.rules.isEmpty && own.quota.isEmpty && own.usage.isEmpty && own.name == "sub_eastus")
        #expect(own.fields.contains(.init(name: "Largest free IPv4 block", value: "none")))
        let child = page.areas[2]
        #expect(child.isPool && child.name == "child" && child.label == "Pool child (sub_eastus)")
        #expect(child.fields.contains(.init(name: "Labels", value: "a=1, b=2")), "labels sorted by key")
        #expect(child.fields.contains(.init(name: "Parent pool", value: "root")))
        #expect(child.fields.contains(.init(name: "Free IPv4 addresses", value: "1024")))
        #expect(child.rules.contains(.init(name: "Allowed requesters", value: "anyone")))
        #expect(child.rules.contains(.init(name: "Required tags (its own and its ancestors')", value: "none")))
        #expect(
            child.quota == [
                .init(name: "Leases per requester", value: "no limit"),
                .init(name: "Addresses per requester", value: "1024"),
            ])
        #expect(child.usage == [.init(requester: "ci", leases: "2", addresses: "512")])
    }

    @Test("stock: every size with rows or a target, its target beside its available blocks, the states in order")
    func stock() {
        let page = PoolsPage([(report: Self.pool, forecasts: [])])
        #expect(
            page.stateNames == ["leased", "anchored", "released", "quarantined", "expired", "occupied", "reserved"])
        #expect(
            page.areas[0].sizes == [
                .init(size: "/24", target: "4", available: "1", counts: ["3", "1", "1", "1", "1", "1", "1"]),
                .init(size: "IPv6 /64", target: "2", available: "0", counts: Array(repeating: "0", count: 7)),
            ])
    }

    @Test("forecast rows: unused addresses, then each size, over both windows; missing values shown as a dash")
    func forecastRows() {
        let rows = PoolsPage([(report: Self.pool, forecasts: [(version: "v4", forecast: Self.forecast)])]).areas[0]
            .forecast
        #expect(
            rows.map(\.measure) == [
                "Unused IPv4 addresses", "Unused IPv4 addresses", "Free IPv4 /26 blocks", "Free IPv4 /26 blocks",
            ])
        #expect(
            rows[0]
                == .init(
                    measure: "Unused IPv4 addresses", window: "last 7 days", status: "runs-out", daysLeft: "10.8",
                    runsOutAt: ISO8601.format(Self.now), ratePerDay: "-2400.0", samples: "168"))
        #expect(rows[1].daysLeft == "–" && rows[1].runsOutAt == "–" && rows[1].ratePerDay == "–")
        #expect(rows[3].ratePerDay == "0.0" && rows[3].window == "last 30 days")
    }

    @Test("rendered: labelled tables in their own scroll boxes, no usage table for a scope's own space")
    func rendered() {
        let html = ConsoleTemplates.render(
            PoolsPage([(report: Self.report(pool: nil), forecasts: []), (report: Self.pool, forecasts: [])]),
            title: "Pools", notice: nil, session: nil)
        #expect(html.contains("<div class=\"scroll\"><table id=\"hierarchy\"><caption>Hierarchy</caption>"))
        #expect(html.contains("<table id=\"usage-1\"><caption>Usage per requester</caption>"))
        #expect(!html.contains("id=\"usage-0\"") && !html.contains("id=\"rules-0\""))
        #expect(html.contains("<tr><td>/24</td><td>4</td><td>1</td><td>3</td><td>1</td>"))
        #expect(html.contains("<th scope=\"col\">quarantined</th>"))
        #expect(html.contains("<tr><td colspan=\"7\">No usage is sampled for this area.</td></tr>"))
        #expect(!html.contains("<script") && !html.contains("style=\""))
    }
}
