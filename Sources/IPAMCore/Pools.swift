import Foundation
package import NetworkMath
import StrictJSON

/// A named part of a scope's address space (`POOLS_CONFIG`): a range inside a supernet or inside a parent
/// pool, with allocation rules, per-requester quotas and stock targets of its own.
///
/// A pool's space is its range minus its child pools' ranges; the scope's own space (requests that name no
/// pool) is its supernets minus its root pools. So every block belongs to exactly one pool or to the scope.
package struct Pool: Sendable, Equatable {
    package let name: String
    package let scope: Scope
    package let prefix: IPPrefix
    package let parent: String?
    package let owner: String?
    package let labels: [String: String]
    package let rules: Rules
    package let quota: Quota
    /// Prefix length → `available` blocks to keep in the pool's stock.
    package let stock: [Int: Int]
    /// When the pool's space counts as low (`alerts`; none set: never).
    package var alerts = SpaceThresholds()

    /// What a request in the pool must satisfy. Unset limits fall back to the parent's, then to `CIDR_SIZE_*`.
    package struct Rules: Sendable, Equatable {
        package var minPrefixLength: Int?
        package var maxPrefixLength: Int?
        package var defaultPrefixLength: Int?
        /// Tags a request must carry (any value); a child pool's requests carry its ancestors' too.
        package var requiredTags: [String] = []
        /// Requesters allowed (nil: anyone); every level of the hierarchy that sets a list must allow the requester.
        package var allowedRequesters: [String]?
        package init() {}
    }

    /// Per-requester limits, counted over the pool's live leases (`leased` and `anchored`), its child pools' included.
    package struct Quota: Sendable, Equatable {
        package var maxLeasesPerRequester: Int?
        package var maxAddressesPerRequester: UInt64?
        package init() {}
        package var isEmpty: Bool { maxLeasesPerRequester == nil && maxAddressesPerRequester == nil }
    }
}

/// Every configured pool, validated as a whole, and the space each one (or the scope itself) vends from.
package struct PoolPlan: Sendable, Equatable {
    package let pools: [String: Pool]

    package init(pools: [Pool] = []) {
        self.pools = Dictionary(pools.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    package static let maxDepth = 7

    /// The pool and its ancestors, the pool first.
    package func lineage(_ name: String) -> [Pool] {
        var chain: [Pool] = []
        var next: String? = name
        while let current = next, let pool = pools[current], chain.count <= Self.maxDepth {
            chain.append(pool)
            next = pool.parent
        }
        return chain
    }

    /// The pools directly inside `parent` (nil: the scope's root pools), in address order.
    package func children(of parent: String?, in scope: Scope) -> [Pool] {
        pools.values.filter { $0.parent == parent && $0.scope == scope }.sorted { $0.prefix < $1.prefix }
    }

    /// The space requests in `pool` (nil: no pool) vend from: the pool's range (or the scope's supernets)
    /// without its child pools (or the root pools) and without the scope's exclusions.
    package func space(for pool: String?, in scope: ScopeSupernets) -> ScopeSupernets {
        let inner = children(of: pool, in: scope.scope).map(\.prefix)
        guard let pool, let found = pools[pool] else {
            return ScopeSupernets(
                scope: scope.scope, supernets: scope.supernets, exclude: scope.exclude + inner, isolated: scope.isolated
            )
        }
        return ScopeSupernets(
            scope: scope.scope, supernets: [found.prefix],
            exclude: scope.exclude.filter { $0.overlaps(found.prefix) } + inner, isolated: scope.isolated)
    }

    /// The pool whose own space holds `prefix` (the deepest pool containing it), nil for the scope's own space.
    package func owner(of prefix: IPPrefix, in scope: Scope) -> Pool? {
        pools.values.filter { $0.scope == scope && $0.prefix.contains(prefix) }.max {
            lineage($0.name).count < lineage($1.name).count
        }
    }

    /// The effective prefix-length limits of `pool`: its own, else its ancestors', else `defaults` (`CIDR_SIZE_*`).
    package func lengths(_ pool: String, defaults: (min: Int, max: Int, default: Int)) -> (
        min: Int, max: Int, default: Int
    ) {
        let chain = lineage(pool)
        let minimum =
            chain.lazy.compactMap(\.rules.minPrefixLength).first ?? max(defaults.min, chain.first?.prefix.length ?? 0)
        let maximum = chain.lazy.compactMap(\.rules.maxPrefixLength).first ?? defaults.max
        let fallback =
            chain.lazy.compactMap(\.rules.defaultPrefixLength).first
            ?? Swift.min(Swift.max(defaults.default, minimum), maximum)
        return (minimum, maximum, fallback)
    }

    /// Pool names: lower-case letters, digits and hyphens (they are part of table keys).
    package static func isValidName(_ name: String) -> Bool {
        name.range(of: "^[a-z0-9][a-z0-9-]{0,62}$", options: .regularExpression) != nil
    }

    static let poolFields: Set<String> = [
        "name", "subscriptionid", "accountid", "region", "cidr", "parent", "owner", "labels", "rules", "quota", "stock",
        "alerts",
    ]
    static let ruleFields: Set<String> = [
        "minprefixlength", "maxprefixlength", "defaultprefixlength", "requiredtags", "allowedrequesters",
    ]
    static let quotaFields: Set<String> = ["maxleasesperrequester", "maxaddressesperrequester"]

    /// Parses and validates `POOLS_CONFIG` against the scopes; every problem goes to `problems`, one a line.
    static func parse(
        _ text: String?, scopes: [Scope: ScopeSupernets], defaultScope: Scope?,
        defaults: (min: Int, max: Int, default: Int), defaultsV6: (min: Int, max: Int, default: Int),
        problems: inout [String]
    ) -> PoolPlan {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return PoolPlan() }
        guard let json = try? JSONValue.parse(Array(text.utf8)), let entries = json.arrayValue else {
            problems.append("POOLS_CONFIG: not a JSON array of pools")
            return PoolPlan()
        }
        struct Draft {
            var name: String
            var path: String
            /// The scope's cloud and owner when the entry names one (`subscriptionId` or `accountId`).
            var scopeOwner: (cloud: Cloud, account: String)?
            var region: String?
            var prefix: IPPrefix
            var parent: String?
            var owner: String?
            var labels: [String: String]
            var rules: Pool.Rules
            var quota: Pool.Quota
            var stock: [Int: Int]
            var alerts: SpaceThresholds
        }
        var drafts: [String: Draft] = [:]
        var order: [String] = []
        for (index, entry) in entries.enumerated() {
            var path = "POOLS_CONFIG[\(index)]"
            guard let object = entry.objectValue else {
                problems.append("\(path): not an object")
                continue
            }
            let fields = Dictionary(object.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
            for (key, _) in object where !poolFields.contains(key.lowercased()) {
                problems.append("\(path).\(key): unknown field")
            }
            guard let name = fields["name"]?.stringValue, isValidName(name) else {
                problems.append("\(path).name: missing, or not 1–63 lower-case letters, digits and hyphens")
                continue
            }
            path += " (\(name))"
            guard drafts[name] == nil else {
                problems.append("\(path): the name is used twice")
                continue
            }
            guard let cidr = fields["cidr"]?.stringValue, let prefix = try? IPPrefix(parsing: cidr) else {
                problems.append("\(path).cidr: missing or not a CIDR block (host bits zero)")
                continue
            }
            func text(_ key: String) -> String? {
                guard let value = fields[key] else { return nil }
                guard let text = value.stringValue, !text.isEmpty else {
                    problems.append("\(path).\(key): must be a non-empty string")
                    return nil
                }
                return text
            }
            func count(_ value: JSONValue?, _ field: String, range: ClosedRange<Int>) -> Int? {
                guard let value else { return nil }
                guard case .number(let lexeme) = value, let number = Int(lexeme), range.contains(number) else {
                    problems.append(
                        "\(path).\(field): must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                    return nil
                }
                return number
            }
            var labels: [String: String] = [:]
            if let raw = fields["labels"] {
                if let object = raw.objectValue, object.allSatisfy({ $0.1.stringValue != nil }) {
                    for (key, value) in object { labels[key] = value.stringValue }
                } else {
                    problems.append("\(path).labels: must be an object of strings")
                }
            }
            var rules = Pool.Rules()
            if let raw = fields["rules"] {
                if let object = raw.objectValue {
                    let rule = Dictionary(object.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
                    for (key, _) in object where !ruleFields.contains(key.lowercased()) {
                        problems.append("\(path).rules.\(key): unknown field")
                    }
                    let width = prefix.version.bitWidth
                    rules.minPrefixLength = count(rule["minprefixlength"], "rules.minPrefixLength", range: 1...width)
                    rules.maxPrefixLength = count(rule["maxprefixlength"], "rules.maxPrefixLength", range: 1...width)
                    rules.defaultPrefixLength = count(
                        rule["defaultprefixlength"], "rules.defaultPrefixLength", range: 1...width)
                    func names(_ key: String, _ field: String) -> [String]? {
                        guard let value = rule[key] else { return nil }
                        guard let list = value.arrayValue?.compactMap(\.stringValue),
                            list.count == value.arrayValue?.count, !list.contains(where: \.isEmpty)
                        else {
                            problems.append("\(path).rules.\(field): must be an array of non-empty strings")
                            return nil
                        }
                        return list
                    }
                    rules.requiredTags = names("requiredtags", "requiredTags") ?? []
                    rules.allowedRequesters = names("allowedrequesters", "allowedRequesters")
                } else {
                    problems.append("\(path).rules: must be an object")
                }
            }
            var quota = Pool.Quota()
            if let raw = fields["quota"] {
                if let object = raw.objectValue {
                    let limits = Dictionary(object.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
                    for (key, _) in object where !quotaFields.contains(key.lowercased()) {
                        problems.append("\(path).quota.\(key): unknown field")
                    }
                    quota.maxLeasesPerRequester = count(
                        limits["maxleasesperrequester"], "quota.maxLeasesPerRequester", range: 0...1_000_000)
                    quota.maxAddressesPerRequester = count(
                        limits["maxaddressesperrequester"], "quota.maxAddressesPerRequester", range: 0...Int.max
                    ).map(UInt64.init)
                } else {
                    problems.append("\(path).quota: must be an object")
                }
            }
            var stock: [Int: Int] = [:]
            if let raw = fields["stock"] {
                if let object = raw.objectValue {
                    for (key, value) in object {
                        guard let length = Int(key), (1...prefix.version.bitWidth).contains(length),
                            let target = count(value, "stock.\(key)", range: 0...10_000)
                        else {
                            if Int(key) == nil {
                                problems.append("\(path).stock.\(key): the key must be a prefix length")
                            }
                            continue
                        }
                        stock[length] = target
                    }
                } else {
                    problems.append("\(path).stock: must be an object of prefix length → count")
                }
            }
            var alerts = SpaceThresholds()
            if let raw = fields["alerts"] {
                alerts =
                    SpaceThresholds.parse(
                        raw, path: "\(path).alerts", bitWidth: prefix.version.bitWidth, problems: &problems) ?? alerts
            }
            let parent = text("parent")
            var scopeOwner = text("subscriptionid").map { (cloud: Cloud.azure, account: $0.lowercased()) }
            if let account = text("accountid") {
                if scopeOwner != nil {
                    problems.append(
                        "\(path).accountId: name the scope by subscriptionId (Azure) or accountId (AWS), not both")
                }
                scopeOwner = (.aws, account)
            }
            drafts[name] = Draft(
                name: name, path: path, scopeOwner: scopeOwner,
                region: text("region")?.lowercased(), prefix: prefix,
                parent: parent, owner: text("owner"), labels: labels, rules: rules, quota: quota, stock: stock,
                alerts: alerts)
            order.append(name)
        }

        // Scopes, nesting and containment: parents first.
        var resolved: [String: Pool] = [:]
        var levels: [String: Int] = [:] // 1 for a root pool
        func resolve(_ name: String, depth: Int) -> Pool? {
            if let done = resolved[name] { return done }
            guard let draft = drafts[name] else { return nil }
            guard depth <= PoolPlan.maxDepth + 1 else { return nil } // a cycle: reported below
            if let parentName = draft.parent, let parent = resolve(parentName, depth: depth + 1),
                let parentLevel = levels[parent.name], parentLevel >= PoolPlan.maxDepth
            {
                problems.append("\(draft.path): nested more than \(PoolPlan.maxDepth) levels deep")
                return nil
            }
            let scope: Scope
            if let parentName = draft.parent {
                guard drafts[parentName] != nil else {
                    problems.append("\(draft.path).parent: no pool is named '\(parentName)'")
                    return nil
                }
                guard let parent = resolve(parentName, depth: depth + 1) else {
                    if depth == 1 {
                        problems.append(
                            "\(draft.path).parent: '\(parentName)' is not usable (see its line, or the parents form a cycle)"
                        )
                    }
                    return nil
                }
                if let owner = draft.scopeOwner,
                    owner.cloud != parent.scope.cloud || owner.account != parent.scope.account
                {
                    problems.append(
                        "\(draft.path).\(owner.cloud == .aws ? "accountId" : "subscriptionId"): differs from its parent '\(parentName)' (a child pool is in its parent's scope)"
                    )
                }
                if let region = draft.region, region != parent.scope.region.lowercased() {
                    problems.append("\(draft.path).region: differs from its parent '\(parentName)'")
                }
                guard parent.prefix.contains(draft.prefix), parent.prefix != draft.prefix else {
                    problems.append(
                        "\(draft.path).cidr: \(draft.prefix) is not inside its parent '\(parentName)' (\(parent.prefix))"
                    )
                    return nil
                }
                scope = parent.scope
            } else {
                let candidates = scopes.keys.filter {
                    (draft.scopeOwner == nil
                        || ($0.cloud == draft.scopeOwner?.cloud && $0.account == draft.scopeOwner?.account))
                        && (draft.region == nil || $0.region.lowercased() == draft.region)
                }.sorted()
                let chosen =
                    draft.scopeOwner == nil && draft.region == nil
                    ? defaultScope.flatMap { scopes[$0] == nil ? nil : $0 }
                    : (candidates.count == 1 ? candidates[0] : nil)
                guard let found = chosen else {
                    problems.append(
                        "\(draft.path): names no single configured scope (give subscriptionId, or accountId for AWS, and region of a SUPERNETS_CONFIG scope)"
                    )
                    return nil
                }
                guard scopes[found]?.supernets.contains(where: { $0.contains(draft.prefix) }) == true else {
                    problems.append("\(draft.path).cidr: \(draft.prefix) is not inside a supernet of \(found)")
                    return nil
                }
                scope = found
            }
            var pool = Pool(
                name: draft.name, scope: scope, prefix: draft.prefix, parent: draft.parent, owner: draft.owner,
                labels: draft.labels,
                rules: draft.rules, quota: draft.quota, stock: draft.stock)
            pool.alerts = draft.alerts
            resolved[name] = pool
            levels[name] = draft.parent.flatMap { levels[$0] }.map { $0 + 1 } ?? 1
            return pool
        }
        for name in order { _ = resolve(name, depth: 1) }
        let plan = PoolPlan(pools: Array(resolved.values))

        // Siblings never overlap; rules are consistent with the pool and the hierarchy.
        let groups = Dictionary(grouping: resolved.values) { "\($0.scope.partitionKey)|\($0.parent ?? "")" }
        for group in groups.values {
            let sorted = group.sorted { $0.prefix < $1.prefix }
            for (i, first) in sorted.enumerated() {
                for second in sorted[(i + 1)...] where first.prefix.overlaps(second.prefix) {
                    problems.append(
                        "POOLS_CONFIG: pools '\(first.name)' (\(first.prefix)) and '\(second.name)' (\(second.prefix)) overlap; sibling pools never do"
                    )
                }
            }
        }
        for name in order {
            guard let pool = resolved[name], let draft = drafts[name] else { continue }
            let (minimum, maximum, fallback) = plan.lengths(
                name, defaults: pool.prefix.version == .v4 ? defaults : defaultsV6)
            if minimum > maximum {
                problems.append(
                    "\(draft.path).rules: minPrefixLength /\(minimum) is longer than maxPrefixLength /\(maximum)")
            }
            if minimum < pool.prefix.length {
                problems.append(
                    "\(draft.path).rules.minPrefixLength: /\(minimum) is larger than the pool itself (\(pool.prefix))")
            }
            if fallback < minimum || fallback > maximum {
                problems.append(
                    "\(draft.path).rules.defaultPrefixLength: /\(fallback) is outside /\(minimum)–/\(maximum)")
            }
            for length in pool.stock.keys.sorted() where length < minimum || length > maximum {
                problems.append(
                    "\(draft.path).stock.\(length): outside the pool's prefix lengths /\(minimum)–/\(maximum)")
            }
        }
        return plan
    }
}
