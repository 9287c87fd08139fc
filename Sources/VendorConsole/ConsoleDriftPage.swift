import Foundation
import Hummingbird
import IPAMCore
import Inventory
import NetworkMath
import VendorDomain
import VendorHTTP

/// What the drift page says about a finding of the Manager's last report: the compliance status of the networks
/// on its block, and what the next run will do about it.
enum DriftOutlook {
    /// What the next run does, from the finding as the Manager stored it: its report ends a finding's detail with
    /// `; next run: ACTION` when the next run changes the row (`DriftReport.items`, from the plan's outlook), and
    /// each kind says what happens otherwise.
    static func nextRun(kind: String, detail: String) -> String {
        if let range = detail.range(of: "; next run: ", options: .backwards) {
            let action = String(detail[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            return Self.action(action)
        }
        switch kind {
        case "prefix-mismatch":
            return "Nothing: drift is reported, never fixed silently; the lease keeps its block"
        case "held-for-vnet":
            return "Nothing: the block stays held (not vended) until the VNet is gone from a complete listing"
        case "stale-lease":
            if let range = detail.range(of: "within the reap grace") {
                return "Nothing yet: it is \(detail[range.lowerBound...]); a run after that reaps it"
            }
            return "Reap it when the reap grace is over"
        case "occupied":
            return "Nothing while the network uses the block; it is freed after two complete listings without it"
        case "vnet-missing":
            return "Nothing until a complete listing: an incomplete one proves no absence"
        default:
            return "Not stated by the Manager's report"
        }
    }

    /// An audit action a run writes (`AuditAction`), in words.
    static func action(_ action: String) -> String {
        switch action {
        case "anchor": "Anchor the lease to its VNet"
        case "re-anchor": "Anchor the lease to its VNet again"
        case "reap": "Reap it: the expired, never-deployed lease goes to quarantine"
        case "return-to-stock": "Return the block to stock (its quarantine is over)"
        case "seen-again": "Mark its network seen again"
        case "missing": "Count its network missing once more (two complete listings without it end the holding)"
        case "release": "Release it: its network is gone, the lease goes to quarantine"
        case "occupy": "Hold the block for the unmanaged network using it"
        case "free": "Free the block back to stock: the unmanaged network is gone"
        case "forget": "Forget the row of the unmanaged network, which is gone"
        default: "Write '\(action)'"
        }
    }

    /// The recorded compliance of the networks whose prefixes overlap a finding's block(s) in its scope:
    /// `STATUS (NETWORK): REASON` each, or `not listed` when no listed network has the block.
    /// - Parameters:
    ///   - scope: the finding's scope (its partition key).
    ///   - cidr: the finding's block, or `IPv4 + IPv6` for a dual-stack lease.
    ///   - networks: the recorded network statuses, with their scopes.
    ///   - complete: whether `networks` are all the recorded ones (a page may hold only the first); without a match
    ///     in an incomplete read the status is `unknown`, never `not listed`.
    static func compliance(
        scope: String, cidr: String, networks: [(NetworkStatus, Scope)], complete: Bool = true
    ) -> (status: String, detail: String) {
        let blocks = cidr.split(separator: "+").compactMap {
            try? IPPrefix(parsing: $0.trimmingCharacters(in: .whitespaces))
        }
        let matching = networks.filter { status, networkScope in
            networkScope.partitionKey == scope
                && status.cidrs.contains { text in
                    guard let prefix = try? IPPrefix.parseNormalising(text).prefix else { return false }
                    return blocks.contains { $0.overlaps(prefix) }
                }
        }
        guard !matching.isEmpty else {
            return complete
                ? ("not listed", "no listed network has this block")
                : ("unknown", "not among the first \(networks.count) networks read: see GET /api/networks")
        }
        let statuses = Set(matching.map(\.0.status.rawValue)).sorted()
        return (
            statuses.joined(separator: ", "),
            matching.map { "\($0.0.status.rawValue) (\(LeasesPage.Row.networkName($0.0.resourceId))): \($0.0.reason)" }
                .joined(separator: "; ")
        )
    }
}

struct DriftPage: ConsolePage {
    static let template = ConsoleTemplates.Name.drift
    static let section: ConsoleSection? = .drift

    struct Finding: Sendable, Equatable {
        let kind: String
        let scope: String
        let cidr: String
        let detail: String
        /// The compliance status of the networks on the block (`not listed` for none), and each one's why.
        var compliance = "not listed"
        var complianceDetail = ""
        /// What the next Manager run does about it (`DriftOutlook.nextRun`).
        var nextRun = ""
        /// The scope's id and whole name, to hover (`ConsoleScopes.title`).
        var scopeTitle = ""
    }

    /// One scope's listed networks, counted by compliance status.
    struct NetworkCounts: Sendable, Equatable {
        let scope: String
        let compliant: Int
        let unmanaged: Int
        let noncompliant: Int
        let ignored: Int
        /// The scope's id and whole name, to hover (`ConsoleScopes.title`).
        var scopeTitle = ""
    }

    /// A noncompliant network and why.
    struct Network: Sendable, Equatable {
        let scope: String
        let resourceId: String
        let cidrs: String
        let reason: String
        /// The scope's id and whole name, to hover (`ConsoleScopes.title`).
        var scopeTitle = ""
    }

    let manager: ManagerSummary?
    let findings: [Finding]
    let count: Int
    let networkCounts: [NetworkCounts]
    let noncompliant: [Network]

    /// - Parameters:
    ///   - noncompliant: the noncompliant networks to show (a page of `GET /api/networks`), with their scopes.
    ///   - scopes: the configured scopes, which name the findings' and counts' scopes (`ConsoleScopes.name`); one
    ///     not among them shows its partition key.
    ///   - networks: the recorded statuses of the listed networks, which give each finding its compliance;
    ///     `networksComplete` false when they are only the first of more.
    init(
        _ status: ManagerStatus?, noncompliant: [(NetworkStatus, Scope)] = [], scopes: [Scope] = [],
        networks: [(NetworkStatus, Scope)] = [], networksComplete: Bool = true
    ) {
        manager = status.map(ManagerSummary.init)
        findings = (status?.drift ?? []).map {
            let (compliance, why) = DriftOutlook.compliance(
                scope: $0.scope, cidr: $0.cidr, networks: networks, complete: networksComplete)
            return Finding(
                kind: $0.kind, scope: ConsoleScopes.name(partitionKey: $0.scope, in: scopes), cidr: $0.cidr,
                detail: $0.detail, compliance: compliance, complianceDetail: why,
                nextRun: DriftOutlook.nextRun(kind: $0.kind, detail: $0.detail),
                scopeTitle: ConsoleScopes.title(partitionKey: $0.scope, in: scopes))
        }
        count = findings.count
        networkCounts = (status?.networks ?? []).map {
            NetworkCounts(
                scope: ConsoleScopes.name(partitionKey: $0.scope, in: scopes), compliant: $0[.compliant],
                unmanaged: $0[.unmanaged],
                noncompliant: $0[.noncompliant], ignored: $0[.ignored],
                scopeTitle: ConsoleScopes.title(partitionKey: $0.scope, in: scopes))
        }
        self.noncompliant = noncompliant.map { status, scope in
            Network(
                scope: ConsoleScopes.name(scope), resourceId: status.resourceId,
                cidrs: status.cidrs.joined(separator: ", "),
                reason: status.reason, scopeTitle: ConsoleScopes.title(scope))
        }
    }
}

extension ConsoleTemplates {
    static let drift = """
        {{#manager}}<p>As of the Manager's run at {{runAt}} ({{completeText}}); last complete Sync {{lastComplete}}.</p>
        {{#problems}}<p class="notice error">{{.}}</p>{{/problems}}{{/manager}}
        {{^manager}}<p>The Manager has not reported a run yet.</p>{{/manager}}
        <div class="scroll"><table id="drift"><caption>{{count}} findings, and what the next run does about each</caption>
        <tr><th scope="col">Kind</th><th scope="col">Scope</th><th scope="col">CIDR</th><th scope="col">Detail</th><th scope="col">Compliance</th><th scope="col">Next run</th></tr>
        {{#findings}}<tr><td>{{kind}}</td><td title="{{scopeTitle}}">{{scope}}</td><td>{{cidr}}</td><td>{{detail}}</td><td><span class="state">{{compliance}}</span>{{#complianceDetail}}<br><span class="why">{{complianceDetail}}</span>{{/complianceDetail}}</td><td class="next-run">{{nextRun}}</td></tr>{{/findings}}
        {{^findings}}<tr><td colspan="6">No drift.</td></tr>{{/findings}}
        </table></div>
        <div class="scroll"><table id="network-compliance"><caption>Listed networks by compliance status (each: GET /api/networks)</caption>
        <tr><th scope="col">Scope</th><th scope="col">Compliant</th><th scope="col">Unmanaged</th><th scope="col">Noncompliant</th><th scope="col">Ignored</th></tr>
        {{#networkCounts}}<tr><td title="{{scopeTitle}}">{{scope}}</td><td>{{compliant}}</td><td>{{unmanaged}}</td><td>{{noncompliant}}</td><td>{{ignored}}</td></tr>{{/networkCounts}}
        {{^networkCounts}}<tr><td colspan="5">No networks listed.</td></tr>{{/networkCounts}}
        </table></div>
        <div class="scroll"><table id="noncompliant"><caption>Noncompliant networks</caption>
        <tr><th scope="col">Scope</th><th scope="col">Network</th><th scope="col">CIDRs</th><th scope="col">Why</th></tr>
        {{#noncompliant}}<tr><td title="{{scopeTitle}}">{{scope}}</td><td>{{resourceId}}</td><td>{{cidrs}}</td><td>{{reason}}</td></tr>{{/noncompliant}}
        {{^noncompliant}}<tr><td colspan="4">None.</td></tr>{{/noncompliant}}
        </table></div>
        """
}

extension ConsoleRoutes {
    /// The networks whose statuses a drift page reads to give its findings their compliance.
    static let driftNetworkLimit = 2_000

    @Sendable func drift(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) { () async throws -> (String, DriftPage) in
                let scopes = service.configuration.scopes.keys.sorted()
                let status = try await service.managerStatus()
                let noncompliant = try await service.networkStatuses(
                    in: scopes, statuses: [.noncompliant], limit: 200, from: nil)
                // Every status only when there are findings to give one.
                var networks: [(NetworkStatus, Scope)] = []
                var complete = true
                if !(status?.drift.isEmpty ?? true) {
                    let page = try await service.networkStatuses(
                        in: scopes, statuses: nil, limit: Self.driftNetworkLimit, from: nil)
                    networks = page.networks
                    complete = page.next == nil
                }
                return (
                    "Drift",
                    DriftPage(
                        status, noncompliant: noncompliant.networks, scopes: scopes, networks: networks,
                        networksComplete: complete)
                )
            }
        }
    }
}
