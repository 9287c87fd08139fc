import Foundation
import Hummingbird
import IPAMCore
import Inventory
import NetworkMath
package import VendorAPI
package import VendorDomain

extension VendorRoutes {
    static let usageParameters: Set<String> = [
        "subscriptionId", "accountId", "region", "pool", "ipVersion", "since", "until", "step", "code",
    ]

    /// The shortest step (the finest tier's bucket) and the longest range (the daily tier's retention).
    static let usageMinimumStep = 300

    /// `GET /api/usage`: one area's samples and its forecast. The scope as every request names it (the default
    /// scope without `subscriptionId`/`region`; `pool` alone names its own), unknown scopes and pools 404; `since`
    /// (default: a day before `until`) no later than `until` (default: now); `step` (seconds, default the finest
    /// that gives at most `VendorService.usagePointLimit` points) at least 300 and giving no more points than that.
    @Sendable func usage(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.usageParameters, repeatable: [], service: service)
        let scope: Scope
        let pool: Pool?
        do {
            (scope, pool) = try RequestRules.resolvePool(
                query.one("pool"), subscriptionId: query.one("subscriptionId"), accountId: query.one("accountId"),
                region: query.one("region"), configuration: service.configuration)
        } catch {
            if error.code == .unknownPool { throw VendorError(.notFound, error.message, field: "pool") }
            throw VendorError.badRequest(error)
        }
        var version = pool?.prefix.version ?? .v4
        if let text = query.one("ipVersion") {
            guard let named = ["v4": IPVersion.v4, "v6": .v6][text.lowercased()] else {
                throw VendorError(.invalidQuery, "'ipVersion' must be v4 or v6", field: "ipVersion")
            }
            version = named
        }
        guard let area = service.configuration.usageArea(of: scope, pool: pool?.name, version: version) else {
            throw VendorError(
                .notFound,
                "\(pool.map { "pool '\($0.name)'" } ?? "scope \(scope)") has no \(version == .v4 ? "IPv4" : "IPv6") space",
                field: "ipVersion")
        }
        func time(_ name: String) throws(VendorError) -> Date? {
            guard let text = query.one(name) else { return nil }
            guard let date = ISO8601.parse(text) else {
                throw VendorError(
                    .invalidQuery, "'\(name)' must be an ISO 8601 time, e.g. 2026-12-01T10:00:00Z", field: name)
            }
            return date
        }
        let until = try time("until") ?? service.time.now()
        let since = try time("since") ?? until.addingTimeInterval(-86_400)
        guard since <= until else {
            throw VendorError(.invalidQuery, "'until' is before 'since'", field: "until")
        }
        let range = until.timeIntervalSince(since)
        let limit = VendorService.usagePointLimit
        let fitting = Int((range / Double(limit)).rounded(.up))
        var step = max(Self.usageMinimumStep, fitting)
        if let text = query.one("step") {
            guard let seconds = Int(text), seconds >= Self.usageMinimumStep, seconds <= 731 * 86_400 else {
                throw VendorError(
                    .invalidQuery,
                    "'step' must be a whole number of seconds from 300 (5 minutes) to 63158400 (731 days)",
                    field: "step")
            }
            guard seconds >= fitting else {
                throw VendorError(
                    .invalidQuery,
                    "'step' \(seconds) s gives more than \(limit) points from 'since' to 'until'; use at least \(fitting)",
                    field: "step")
            }
            step = seconds
        }
        let series = try await service.with(logger: context.logger).usage(
            area: area, since: since, until: until, step: TimeInterval(step))
        return VendorRouter.answer(.ok, API.Usage(series, step: step))
    }
}

extension API.Usage {
    /// An area's series and forecast as `GET /api/usage` answers it (the console's pools page shows its forecast).
    package init(_ series: UsageSeries, step: Int) {
        func outlook(_ outcome: SpaceForecast.Outcome?) -> Outlook {
            switch outcome {
            case .runsOut(let at, let days, let rate, let samples)?:
                return Outlook(status: "runs-out", runsOutAt: at, daysLeft: days, ratePerDay: rate, samples: samples)
            case .notRunningOut(let rate, let samples)?:
                return Outlook(
                    status: "not-running-out", runsOutAt: nil, daysLeft: nil, ratePerDay: rate, samples: samples)
            case .insufficientData(let samples)?:
                return Outlook(
                    status: "insufficient-data", runsOutAt: nil, daysLeft: nil, ratePerDay: nil, samples: samples)
            case nil:
                return Outlook(status: "insufficient-data", runsOutAt: nil, daysLeft: nil, ratePerDay: nil, samples: 0)
            }
        }
        func windows(_ outcomes: [String: SpaceForecast.Outcome]?) -> Windows {
            Windows(last7Days: outlook(outcomes?["last7Days"]), last30Days: outlook(outcomes?["last30Days"]))
        }
        let area = series.area
        self.init(
            scope: area.scope.partitionKey, subscription: area.scope.subscriptionId, cloud: area.scope.wireCloud,
            accountId: area.scope.awsAccountId, region: area.scope.region,
            pool: area.pool, ipVersion: "v\(area.version.rawValue)", since: series.since, until: series.until,
            step: step,
            samples: series.samples.map { sample in
                Sample(
                    at: sample.at, leased: .init(sample.leased), anchored: .init(sample.anchored),
                    occupied: .init(sample.occupied), reserved: .init(sample.reserved),
                    quarantined: .init(sample.quarantined), available: .init(sample.available),
                    free: .init(sample.free), leases: sample.leases,
                    freeBlocks: sample.freeBlocks.keys.sorted().map {
                        FreeBlocks(prefixLength: $0, count: sample.freeBlocks[$0]!)
                    })
            },
            forecast: Forecast(
                unusedAddresses: windows(series.forecast),
                sizes: area.sizes.map { length in
                    let outcomes = series.sizeForecasts[length]
                    return SizeForecast(
                        prefixLength: length, last7Days: outlook(outcomes?["last7Days"]),
                        last30Days: outlook(outcomes?["last30Days"]))
                }))
    }
}
