package import NetworkMath

/// One area whose usage the Manager samples: a pool, or a scope's own space (`pool` nil), in one IP version.
package struct UsageArea: Sendable, Hashable {
    package let scope: Scope
    package let pool: String?
    package let version: IPVersion
    /// The prefix lengths whose free blocks each sample counts (and the forecast follows): the area's stock
    /// targets (the sizes most requested) and the sizes its low-space thresholds name, in order.
    package let sizes: [Int]

    package init(scope: Scope, pool: String?, version: IPVersion, sizes: [Int]) {
        self.scope = scope
        self.pool = pool
        self.version = version
        self.sizes = sizes
    }
}

extension IPAMConfiguration {
    /// The areas of `scope` that usage samples measure: its own space for each IP version its supernets have,
    /// then each pool (one version each) in name order.
    package func usageAreas(of scope: Scope) -> [UsageArea] {
        guard let space = scopes[scope] else { return [] }
        var areas: [UsageArea] = []
        for version in [IPVersion.v4, .v6] where space.supernets.contains(where: { $0.version == version }) {
            areas.append(
                UsageArea(
                    scope: scope, pool: nil, version: version,
                    sizes: usageSizes(scope, pool: nil, version: version)))
        }
        for pool in pools.pools.values.filter({ $0.scope == scope }).sorted(by: { $0.name < $1.name }) {
            areas.append(
                UsageArea(
                    scope: scope, pool: pool.name, version: pool.prefix.version,
                    sizes: usageSizes(scope, pool: pool.name, version: pool.prefix.version)))
        }
        return areas
    }

    /// The area of `scope` named by `pool` (nil: the scope's own space) in `version`, when it is one.
    package func usageArea(of scope: Scope, pool: String?, version: IPVersion) -> UsageArea? {
        usageAreas(of: scope).first { $0.pool == pool && $0.version == version }
    }

    func usageSizes(_ scope: Scope, pool: String?, version: IPVersion) -> [Int] {
        let alerts = spaceThresholds(scope, pool: pool).minFreeBlocks.keys.filter { $0 <= version.bitWidth }
        return Set(stockTargets(scope, pool: pool, version: version).keys).union(alerts).sorted()
    }

    /// When an area's space counts as low: the pool's `alerts`, or the manifest's for the scope's own space.
    package func spaceThresholds(_ scope: Scope, pool: String?) -> SpaceThresholds {
        guard let pool else { return scopeAlerts[scope] ?? SpaceThresholds() }
        return pools.pools[pool]?.alerts ?? SpaceThresholds()
    }
}
