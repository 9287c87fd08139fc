import IPAMCore

/// The operator's settings (`SUPERNETS_CONFIG`, `SCOPE_CONFIG_MANIFEST`, `POOLS_CONFIG`, `WEBHOOKS_CONFIG`, the
/// size limits, the lease duration, the table name): the input's first byte picks the setting (`s`, `m`, `p`, `w`,
/// `n`, `x`, `d`, `t`, `v`; any other byte one by its value), the rest is its value over a configuration that loads.
/// Loading gives a configuration or a list of problems; a loaded one keeps the invariants the Vendor relies on.
enum ConfigurationTarget: FuzzTarget {
    static let name = "config"

    static let settings: [(selector: Character, name: String)] = [
        ("s", "SUPERNETS_CONFIG"), ("m", "SCOPE_CONFIG_MANIFEST"), ("p", "POOLS_CONFIG"), ("w", "WEBHOOKS_CONFIG"),
        ("n", "CIDR_SIZE_MIN"),
        ("x", "CIDR_SIZE_MAX"), ("d", "LEASE_DURATION_HOURS"), ("t", "IPAM_TABLE_NAME"), ("v", "CIDR_SIZE_V6_DEFAULT"),
    ]
    static let base = [
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "SUPERNETS_CONFIG":
            #"[{"subscriptionId":"s","regions":[{"region":"eastus","supernets":["10.64.0.0/14","fd00::/44"]}]}]"#,
        "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{"subscriptionId":"s","region":"eastus"}}"#,
    ]

    static func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        var environment = base
        let setting = settings.first { $0.selector.asciiValue == selector } ?? settings[Int(selector) % settings.count]
        environment[setting.name] = text(bytes.dropFirst())
        let configuration: IPAMConfiguration
        do { configuration = try IPAMConfiguration.load(environment: environment) } catch {
            guard !error.lines.isEmpty else { violated("refused with no problem named") }
            return
        }
        guard configuration.scopes[configuration.defaultScope] != nil else {
            violated("the default scope is not configured")
        }
        guard configuration.cidrSizeMin <= configuration.cidrSizeDefault,
            configuration.cidrSizeDefault <= configuration.cidrSizeMax
        else {
            violated("size limits out of order")
        }
        guard configuration.leaseDuration > .zero else { violated("lease duration \(configuration.leaseDuration)") }
        for (name, pool) in configuration.pools.pools {
            let limits = configuration.lengths(pool: name)
            guard limits.min <= limits.default, limits.default <= limits.max else {
                violated("pool \(name) limits \(limits)")
            }
            guard configuration.space(pool.scope, pool: name) != nil else { violated("pool \(name) has no space") }
        }
    }
}
