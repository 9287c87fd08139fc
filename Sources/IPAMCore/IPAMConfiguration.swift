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
    /// Per AWS account id: the role the Manager assumes to read it (`roleArn`, `externalId` of its
    /// `SUPERNETS_CONFIG` entry); an account not here is read with the Manager's own credentials.
    package var awsAccess: [String: AWSAccountAccess] = [:]
    /// Receivers of audit events (`WEBHOOKS_CONFIG`; none when unset).
    package var webhooks: [Webhook] = []
    /// When each scope's own space counts as low (the manifest's `alerts`; pools have their own).
    package var scopeAlerts: [Scope: SpaceThresholds] = [:]
    /// What the console calls each subscription and account (`displayName` of its `SUPERNETS_CONFIG` entries).
    package var displayNames = AccountDisplayNames()

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

        var awsAccess: [String: AWSAccountAccess] = [:]
        var displayNames = AccountDisplayNames()
        let scopes = parseSupernets(
            environment[setting: .supernets], awsAccess: &awsAccess, displayNames: &displayNames, problems: &problems)
        let (defaultScope, allStock) = parseManifest(
            environment[setting: .manifest], scopes: scopes, problems: &problems)
        let stock = allStock.mapValues { $0.v4 }
        let stockV6 = allStock.mapValues { $0.v6 }

        let webhooks = Webhook.parse(environment[setting: .webhooks], problems: &problems)
        let scopeAlerts = SpaceThresholds.parseManifest(environment[setting: .manifest], problems: &problems)
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
        configuration.awsAccess = awsAccess
        configuration.webhooks = webhooks
        configuration.scopeAlerts = scopeAlerts
        configuration.displayNames = displayNames
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

    /// `SUPERNETS_CONFIG`: an array of entries, each an Azure subscription (`subscriptionId`; `"cloud": "azure"`
    /// optional) or an AWS account (`"cloud": "aws"`, `accountId`, optionally `roleArn` and `externalId`, kept in
    /// `awsAccess`), with its `regions`, and optionally the `displayName` the console shows for it (kept in
    /// `displayNames`).
    static func parseSupernets(
        _ text: String?, awsAccess: inout [String: AWSAccountAccess], displayNames: inout AccountDisplayNames,
        problems: inout [String]
    ) -> [Scope: ScopeSupernets] {
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
        let problemsBefore = problems.count
        defer {
            // An empty list (or entries without regions) would load with no scope at all, the default scope included.
            if scopes.isEmpty && problems.count == problemsBefore {
                problems.append("SUPERNETS_CONFIG: names no scope (at least one subscription or account with a region)")
            }
        }
        var accessFrom: [String: Int] = [:]
        for (i, entry) in subscriptions.enumerated() {
            guard let owner = Self.owner(of: entry, path: "SUPERNETS_CONFIG[\(i)]", problems: &problems) else {
                continue
            }
            if owner.cloud == .aws {
                // One account, one way in: entries naming the same account must agree on its role.
                let entryAccess = Self.awsAccess(of: entry, path: "SUPERNETS_CONFIG[\(i)]", problems: &problems)
                if let earlier = accessFrom[owner.account] {
                    if awsAccess[owner.account] != entryAccess {
                        problems.append(
                            "SUPERNETS_CONFIG[\(i)]: account \(owner.account) names another roleArn or externalId than SUPERNETS_CONFIG[\(earlier)]"
                        )
                    }
                } else {
                    accessFrom[owner.account] = i
                    awsAccess[owner.account] = entryAccess
                }
            }
            displayNames.read(
                entry, cloud: owner.cloud, account: owner.account, path: "SUPERNETS_CONFIG[\(i)]", problems: &problems)
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
                if owner.cloud == .aws && !Scope.isAWSRegion(region.lowercased()) {
                    problems.append(
                        "\(path).region=\(region): not an AWS region (lower-case, like us-east-1 or us-gov-west-1)")
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
                let scope = Scope(cloud: owner.cloud, account: owner.account, region: region)
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
        let defaultScope = manifestScope(
            json["defaultScope"], path: "SCOPE_CONFIG_MANIFEST.defaultScope",
            missing: "SCOPE_CONFIG_MANIFEST.defaultScope: missing {subscriptionId, region}", problems: &problems)
        if let defaultScope, scopes[defaultScope] == nil && !scopes.isEmpty {
            problems.append("SCOPE_CONFIG_MANIFEST.defaultScope: \(defaultScope) is not in SUPERNETS_CONFIG")
        }
        var stock: [Scope: (v4: [Int: Int], v6: [Int: Int])] = [:]
        for (i, entry) in ((json["scopes"] as? [[String: Any]]) ?? []).enumerated() {
            guard
                let scope = manifestScope(
                    entry, path: "SCOPE_CONFIG_MANIFEST.scopes[\(i)]",
                    missing: "SCOPE_CONFIG_MANIFEST.scopes[\(i)]: needs subscriptionId and region", problems: &problems)
            else { continue }
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

    /// The cloud and account of a `SUPERNETS_CONFIG` entry: `subscriptionId` (Azure, the default) or `accountId`
    /// (`"cloud": "aws"`).
    static func owner(of entry: [String: Any], path: String, problems: inout [String]) -> (
        cloud: Cloud, account: String
    )? {
        guard let cloud = Self.cloud(of: entry, path: path, problems: &problems) else { return nil }
        switch cloud {
        case .azure:
            guard let subscription = entry["subscriptionId"] as? String, !subscription.isEmpty,
                Self.isSafeKey(subscription)
            else {
                problems.append("\(path).subscriptionId: missing or contains / \\ # ? or control characters")
                return nil
            }
            guard Self.isAzureSubscription(subscription, path: path, problems: &problems) else { return nil }
            return (.azure, subscription)
        case .aws:
            guard let account = Self.awsAccount(of: entry, path: path, problems: &problems) else { return nil }
            return (.aws, account)
        }
    }

    /// The scope a manifest entry names (`defaultScope`, `scopes[i]`): `subscriptionId` and `region` on Azure,
    /// `"cloud": "aws"`, `accountId` and `region` on AWS. `missing` is the problem of an Azure entry without them.
    static func manifestScope(_ value: Any?, path: String, missing: String, problems: inout [String]) -> Scope? {
        guard let entry = value as? [String: Any] else {
            problems.append(missing)
            return nil
        }
        guard let cloud = Self.cloud(of: entry, path: path, problems: &problems) else { return nil }
        switch cloud {
        case .azure:
            guard let subscription = entry["subscriptionId"] as? String, let region = entry["region"] as? String else {
                problems.append(missing)
                return nil
            }
            guard Self.isAzureSubscription(subscription, path: path, problems: &problems) else { return nil }
            return Scope(subscriptionId: subscription, region: region)
        case .aws:
            guard let account = Self.awsAccount(of: entry, path: path, problems: &problems) else { return nil }
            guard let region = entry["region"] as? String, Scope.isAWSRegion(region.lowercased()) else {
                problems.append("\(path).region: missing or not an AWS region (lower-case, like us-east-1)")
                return nil
            }
            return Scope(awsAccountId: account, region: region)
        }
    }

    /// The entry's `cloud` (Azure when absent), refusing the other cloud's members: an Azure entry names no
    /// `accountId`, `roleArn` or `externalId`, an AWS entry no `subscriptionId`.
    static func cloud(of entry: [String: Any], path: String, problems: inout [String]) -> Cloud? {
        var cloud = Cloud.azure
        if let raw = entry["cloud"] {
            guard let name = raw as? String, let known = Cloud(rawValue: name.lowercased()) else {
                let shown = (raw as? String).map { "=\($0.debugDescription)" } ?? ""
                problems.append("\(path).cloud\(shown): unknown cloud (azure or aws)")
                return nil
            }
            cloud = known
        }
        let foreign = cloud == .azure ? ["accountId", "roleArn", "externalId"] : ["subscriptionId"]
        for name in foreign where entry[name] != nil {
            problems.append(
                cloud == .azure
                    ? "\(path).\(name): only an AWS entry (\"cloud\": \"aws\") has one; an Azure entry names its subscriptionId"
                    : "\(path).\(name): an AWS entry names its accountId, not a subscriptionId")
            return nil
        }
        return cloud
    }

    /// False (with the problem) for an Azure subscription id that is `aws` or begins with `aws_` in any case: its
    /// partition keys would begin as AWS scopes' do, and the two must never meet.
    static func isAzureSubscription(_ subscription: String, path: String, problems: inout [String]) -> Bool {
        guard Scope.isReservedForAWS(subscriptionId: subscription) else { return true }
        problems.append(
            "\(path).subscriptionId=\(subscription.debugDescription): may not be aws or begin with aws_ (AWS scopes' partitions do)"
        )
        return false
    }

    /// An AWS entry's `accountId`: 12 digits, given as a string.
    static func awsAccount(of entry: [String: Any], path: String, problems: inout [String]) -> String? {
        guard let raw = entry["accountId"] else {
            problems.append("\(path).accountId: missing (an AWS entry names its 12-digit account id)")
            return nil
        }
        guard let account = raw as? String, Scope.isAWSAccountId(account) else {
            let shown = (raw as? String).map { "=\($0.debugDescription)" } ?? ""
            problems.append("\(path).accountId\(shown): must be a string of 12 digits (an AWS account id)")
            return nil
        }
        return account
    }

    /// An AWS entry's `roleArn` and `externalId` (nil when it names no role; an external id needs a role).
    static func awsAccess(of entry: [String: Any], path: String, problems: inout [String]) -> AWSAccountAccess? {
        let role = entry["roleArn"]
        let external = entry["externalId"]
        if role == nil {
            if external != nil { problems.append("\(path).externalId: needs a roleArn (the role that asks for it)") }
            return nil
        }
        guard let arn = role as? String, Self.isRoleArn(arn) else {
            problems.append("\(path).roleArn: must be an IAM role ARN (arn:aws:iam::123456789012:role/name)")
            return nil
        }
        guard let external else { return AWSAccountAccess(roleArn: arn, externalId: nil) }
        guard let id = external as? String, (2...1224).contains(id.utf8.count),
            id.utf8.allSatisfy({ byte in
                Self.isWordByte(byte) || "+=,.@:/-".utf8.contains(byte)
            })
        else {
            problems.append("\(path).externalId: must be 2–1224 characters of A–Z a–z 0–9 + = , . @ : / - _")
            return nil
        }
        return AWSAccountAccess(roleArn: arn, externalId: id)
    }

    /// `arn:{aws, aws-cn, aws-us-gov}:iam::{12 digits}:role/{path and name}`, the name of IAM's characters.
    static func isRoleArn(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov"].contains(parts[1]),
            parts[2] == "iam", parts[3].isEmpty, Scope.isAWSAccountId(String(parts[4])), parts[5].hasPrefix("role/")
        else { return false }
        let name = parts[5].dropFirst(5).utf8
        return (1...512).contains(name.count) && name.last != UInt8(ascii: "/")
            && name.allSatisfy { Self.isWordByte($0) || "+=,.@/-".utf8.contains($0) }
    }

    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    /// Table keys may not hold `/ \ # ?` or control characters.
    static func isSafeKey(_ text: String) -> Bool {
        text.count <= 128
            && !text.unicodeScalars.contains {
                "/\\#?".unicodeScalars.contains($0) || $0.value < 0x20 || (0x7F...0x9F).contains($0.value)
            }
    }
}
