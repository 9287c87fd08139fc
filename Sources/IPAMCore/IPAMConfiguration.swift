import Foundation
package import NetworkMath

/// Everything the Vendor and Manager need from the environment, validated as a whole.
///
/// Reads the address-plan and storage settings of `Setting` (`CIDR_SIZE_*`, `LEASE_DURATION_HOURS`,
/// `SUPERNETS_CONFIG`, `SCOPE_CONFIG_MANIFEST`, `AzureWebJobsStorage`, `IPAM_TABLE_NAME`) from the
/// environment the composition root read.
package struct IPAMConfiguration: Sendable {
    package var cidrSizeMin: Int
    package var cidrSizeMax: Int
    package var cidrSizeDefault: Int
    /// The same for IPv6 blocks (`CIDR_SIZE_V6_*`; subnets of an IPv6 block are /64s).
    package var cidrSizeV6Min = 48
    package var cidrSizeV6Max = 64
    package var cidrSizeV6Default = 56
    /// How long a lease lives until it must be anchored (or renewed by a replay).
    package var leaseDuration: Duration
    package var scopes: [Scope: ScopeSupernets]
    package var defaultScope: Scope
    /// Per scope: prefix length → number of `available` rows to keep in stock (IPv4).
    package var stock: [Scope: [Int: Int]]
    /// Per scope: IPv6 prefix length → stock target (the manifest's `"v6/56": 4` entries).
    package var stockV6: [Scope: [Int: Int]] = [:]
    package var storageConnectionString: String
    package var tableName: String
    /// The inventory table when `IPAM_TABLE_NAME` is not set.
    package static let defaultTableName = "networkCidr"
    /// Named pools inside the scopes (`POOLS_CONFIG`; none when unset).
    package var pools = PoolPlan()
    /// Receivers of audit events (`WEBHOOKS_CONFIG`; none when unset).
    package var webhooks: [Webhook] = []

    /// All problems found, one per line, each naming the setting and value.
    package struct Problems: Error, Sendable, CustomStringConvertible {
        package let lines: [String]
        package var description: String { lines.joined(separator: "\n") }
        package init(lines: [String]) { self.lines = lines }
    }

    package static func load(environment: [String: String]) throws(Problems) -> IPAMConfiguration {
        var problems: [String] = []
        func integer(_ setting: Setting, default value: Int) -> Int {
            let name = setting.rawValue
            guard let text = environment[setting: setting] else { return value }
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                problems.append("\(name)=\(text): not an integer")
                return value
            }
            return number
        }
        /// One version's prefix-length limits: each within `range`, the minimum no larger than the maximum,
        /// the default between them.
        func limits(
            _ settings: (min: Setting, max: Setting, default: Setting), defaults: (Int, Int, Int),
            range: ClosedRange<Int>,
            maximumNote: String = ""
        ) -> (min: Int, max: Int, default: Int) {
            let (lowest, highest, fallback) = (
                integer(settings.min, default: defaults.0), integer(settings.max, default: defaults.1),
                integer(settings.default, default: defaults.2)
            )
            let (minName, maxName, defaultName) = (
                settings.min.rawValue, settings.max.rawValue, settings.default.rawValue
            )
            if !range.contains(lowest) {
                problems.append("\(minName)=\(lowest): must be between \(range.lowerBound) and \(range.upperBound)")
            }
            if !range.contains(highest) {
                problems.append(
                    "\(maxName)=\(highest): must be between \(range.lowerBound) and \(range.upperBound)\(maximumNote)")
            }
            if lowest > highest { problems.append("\(minName)=\(lowest) is larger than \(maxName)=\(highest)") }
            if fallback < lowest || fallback > highest {
                problems.append(
                    "\(defaultName)=\(fallback): must lie between \(minName)=\(lowest) and \(maxName)=\(highest)")
            }
            return (lowest, highest, fallback)
        }
        let (minimum, maximum, fallback) = limits(
            (.cidrSizeMin, .cidrSizeMax, .cidrSizeDefault), defaults: (20, 26, 22), range: 8...30)
        let (minimumV6, maximumV6, fallbackV6) = limits(
            (.cidrSizeV6Min, .cidrSizeV6Max, .cidrSizeV6Default), defaults: (48, 64, 56), range: 16...64,
            maximumNote: " (an IPv6 block holds /64 subnets)")

        var hours = 4.0
        if let text = environment[setting: .leaseDurationHours] {
            if let value = Double(text), value.isFinite, value > 0, value <= 24 * 365 {
                hours = value
            } else {
                problems.append("LEASE_DURATION_HOURS=\(text): must be a positive number of hours (fractions allowed)")
            }
        }

        let connection = environment[setting: .storage] ?? ""
        let identityBased =
            environment[setting: .storageAccountName] != nil || environment[setting: .storageTableServiceUri] != nil
        if connection.isEmpty && !identityBased {
            problems.append(
                "AzureWebJobsStorage: missing (a connection string, UseDevelopmentStorage=true for Azurite, or AzureWebJobsStorage__accountName / AzureWebJobsStorage__tableServiceUri for an identity-based connection)"
            )
        }
        let tableName = environment[setting: .tableName] ?? Self.defaultTableName
        if tableName.range(of: "^[A-Za-z][A-Za-z0-9]{2,62}$", options: .regularExpression) == nil {
            problems.append("IPAM_TABLE_NAME=\(tableName): must be 3–63 letters and digits, starting with a letter")
        }

        let scopes = parseSupernets(environment[setting: .supernets], problems: &problems)
        let (defaultScope, allStock) = parseManifest(
            environment[setting: .manifest], scopes: scopes, problems: &problems)
        let stock = allStock.mapValues { $0.v4 }
        let stockV6 = allStock.mapValues { $0.v6 }

        let webhooks = Webhook.parse(environment[setting: .webhooks], problems: &problems)
        let pools = PoolPlan.parse(
            environment[setting: .pools], scopes: scopes, defaultScope: defaultScope,
            defaults: (minimum, maximum, fallback),
            defaultsV6: (minimumV6, maximumV6, fallbackV6), problems: &problems)
        guard problems.isEmpty, let defaultScope else { throw Problems(lines: problems) }
        var configuration = IPAMConfiguration(
            cidrSizeMin: minimum, cidrSizeMax: maximum, cidrSizeDefault: fallback,
            leaseDuration: .milliseconds(Int64(hours * 3_600_000)), scopes: scopes, defaultScope: defaultScope,
            stock: stock, storageConnectionString: connection, tableName: tableName)
        configuration.pools = pools
        configuration.webhooks = webhooks
        configuration.stockV6 = stockV6
        (configuration.cidrSizeV6Min, configuration.cidrSizeV6Max, configuration.cidrSizeV6Default) = (
            minimumV6, maximumV6, fallbackV6
        )
        return configuration
    }

    /// The prefix-length limits of requests in `pool` (nil: the scope's own space, `CIDR_SIZE_*` or
    /// `CIDR_SIZE_V6_*` by `version`).
    package func lengths(pool: String?, version: IPVersion = .v4) -> (min: Int, max: Int, default: Int) {
        guard let pool else { return sizeLimits(version) }
        // A pool's limits start from its own version's (a pool is one range of one version).
        return pools.lengths(pool, defaults: sizeLimits(pools.pools[pool]?.prefix.version ?? version))
    }

    /// `CIDR_SIZE_*` for IPv4, `CIDR_SIZE_V6_*` for IPv6.
    func sizeLimits(_ version: IPVersion) -> (min: Int, max: Int, default: Int) {
        version == .v4 ? (cidrSizeMin, cidrSizeMax, cidrSizeDefault) : (cidrSizeV6Min, cidrSizeV6Max, cidrSizeV6Default)
    }

    /// The stock targets of an area (a pool's, or the scope's own) for one IP version.
    package func stockTargets(_ scope: Scope, pool: String?, version: IPVersion) -> [Int: Int] {
        if let pool { return pools.pools[pool].map { $0.prefix.version == version ? $0.stock : [:] } ?? [:] }
        return (version == .v4 ? stock[scope] : stockV6[scope]) ?? [:]
    }

    /// The space requests in `pool` (nil: no pool) of `scope` vend from (see `PoolPlan.space`).
    package func space(_ scope: Scope, pool: String?) -> ScopeSupernets? {
        scopes[scope].map { pools.space(for: pool, in: $0) }
    }

    static func parseSupernets(_ text: String?, problems: inout [String]) -> [Scope: ScopeSupernets] {
        guard let text, !text.isEmpty else {
            problems.append("SUPERNETS_CONFIG: missing")
            return [:]
        }
        guard let data = text.data(using: .utf8), let json = try? JSONSerialization.jsonObject(with: data),
            let subscriptions = json as? [[String: Any]]
        else {
            problems.append("SUPERNETS_CONFIG: not a JSON array of {subscriptionId, regions}")
            return [:]
        }
        var scopes: [Scope: ScopeSupernets] = [:]
        for (i, entry) in subscriptions.enumerated() {
            guard let subscription = entry["subscriptionId"] as? String, !subscription.isEmpty,
                Self.isSafeKey(subscription)
            else {
                problems.append(
                    "SUPERNETS_CONFIG[\(i)].subscriptionId: missing or contains / \\ # ? or control characters")
                continue
            }
            guard let regions = entry["regions"] as? [[String: Any]] else {
                problems.append("SUPERNETS_CONFIG[\(i)].regions: missing or not an array")
                continue
            }
            for (j, regionEntry) in regions.enumerated() {
                let path = "SUPERNETS_CONFIG[\(i)].regions[\(j)]"
                guard let region = regionEntry["region"] as? String, !region.isEmpty, Self.isSafeKey(region) else {
                    problems.append("\(path).region: missing or invalid")
                    continue
                }
                func prefixes(_ key: String) -> [IPPrefix] {
                    guard let raw = regionEntry[key] else { return [] }
                    guard let list = raw as? [String] else {
                        problems.append("\(path).\(key): must be an array of CIDR strings")
                        return []
                    }
                    return list.compactMap { item in
                        do { return try IPPrefix(parsing: item) } catch {
                            problems.append("\(path).\(key): \(error)")
                            return nil
                        }
                    }
                }
                let supernets = prefixes("supernets")
                if supernets.isEmpty && regionEntry["supernets"] != nil
                    && (regionEntry["supernets"] as? [String])?.isEmpty == true
                {
                    problems.append("\(path).supernets: empty")
                } else if regionEntry["supernets"] == nil {
                    problems.append("\(path).supernets: missing")
                }
                let scope = Scope(subscriptionId: subscription, region: region)
                if scopes[scope] != nil { problems.append("\(path): scope \(scope) is configured twice") }
                scopes[scope] = ScopeSupernets(
                    scope: scope, supernets: supernets, exclude: prefixes("exclude"),
                    isolated: regionEntry["isolated"] as? Bool ?? false)
            }
        }
        // Supernets of different scopes may only overlap when both scopes are isolated.
        let all = scopes.values.sorted { $0.scope < $1.scope }
        for (a, first) in all.enumerated() {
            for second in all[(a + 1)...] where !(first.isolated && second.isolated) {
                for x in first.supernets {
                    for y in second.supernets where x.overlaps(y) {
                        problems.append(
                            "SUPERNETS_CONFIG: \(x) of \(first.scope) overlaps \(y) of \(second.scope) (mark both isolated if they are separate routing domains)"
                        )
                    }
                }
            }
            for (i, x) in first.supernets.enumerated() {
                for y in first.supernets[(i + 1)...] where x.overlaps(y) {
                    problems.append("SUPERNETS_CONFIG: \(x) and \(y) of \(first.scope) overlap")
                }
            }
        }
        return scopes
    }

    static func parseManifest(_ text: String?, scopes: [Scope: ScopeSupernets], problems: inout [String]) -> (
        Scope?, [Scope: (v4: [Int: Int], v6: [Int: Int])]
    ) {
        guard let text, !text.isEmpty else {
            problems.append("SCOPE_CONFIG_MANIFEST: missing")
            return (nil, [:])
        }
        guard let data = text.data(using: .utf8),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            problems.append("SCOPE_CONFIG_MANIFEST: not a JSON object")
            return (nil, [:])
        }
        var defaultScope: Scope? = nil
        if let entry = json["defaultScope"] as? [String: Any], let sub = entry["subscriptionId"] as? String,
            let region = entry["region"] as? String
        {
            let scope = Scope(subscriptionId: sub, region: region)
            if scopes[scope] == nil && !scopes.isEmpty {
                problems.append("SCOPE_CONFIG_MANIFEST.defaultScope: \(scope) is not in SUPERNETS_CONFIG")
            }
            defaultScope = scope
        } else {
            problems.append("SCOPE_CONFIG_MANIFEST.defaultScope: missing {subscriptionId, region}")
        }
        var stock: [Scope: (v4: [Int: Int], v6: [Int: Int])] = [:]
        for (i, entry) in ((json["scopes"] as? [[String: Any]]) ?? []).enumerated() {
            guard let sub = entry["subscriptionId"] as? String, let region = entry["region"] as? String else {
                problems.append("SCOPE_CONFIG_MANIFEST.scopes[\(i)]: needs subscriptionId and region")
                continue
            }
            let scope = Scope(subscriptionId: sub, region: region)
            if scopes[scope] == nil && !scopes.isEmpty {
                problems.append("SCOPE_CONFIG_MANIFEST.scopes[\(i)]: \(scope) is not in SUPERNETS_CONFIG")
            }
            var sizes: [Int: Int] = [:]
            var sizesV6: [Int: Int] = [:]
            for (key, value) in (entry["stock"] as? [String: Any]) ?? [:] {
                // "24": an IPv4 /24; "v6/56": an IPv6 /56.
                let v6 = key.lowercased().hasPrefix("v6/")
                let lengthText =
                    v6 ? String(key.dropFirst(3)) : (key.lowercased().hasPrefix("v4/") ? String(key.dropFirst(3)) : key)
                guard let length = Int(lengthText), (v6 ? 16...64 : 8...32).contains(length),
                    let count = (value as? NSNumber)?.intValue, count >= 0, count <= 10_000
                else {
                    problems.append(
                        "SCOPE_CONFIG_MANIFEST.scopes[\(i)].stock.\(key)=\(value): needs a prefix length (\"24\" for IPv4, \"v6/56\" for IPv6) and a count 0–10000"
                    )
                    continue
                }
                if v6 { sizesV6[length] = count } else { sizes[length] = count }
            }
            stock[scope] = (sizes, sizesV6)
        }
        return (defaultScope, stock)
    }

    /// Table keys may not hold `/ \ # ?` or control characters.
    static func isSafeKey(_ text: String) -> Bool {
        text.count <= 128
            && !text.unicodeScalars.contains {
                "/\\#?".unicodeScalars.contains($0) || $0.value < 0x20 || (0x7F...0x9F).contains($0.value)
            }
    }
}
