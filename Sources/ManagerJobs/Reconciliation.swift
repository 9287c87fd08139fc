package import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath

/// Sync + Anchor + Reap for one scope, as pure decisions over rows and observed VNets (docs/Design.md,
/// "The Manager").
///
/// The Terraform gap's core rule: a listing that is not complete never releases anything and never
/// counts as "not seen".
package enum Reconciliation {
    package struct Plan: Sendable {
        /// The listing the plan decided over, as the decisions saw it.
        package let observation: Observation
        /// Every row's decision, in the order of the rows given.
        package var decisions: [(row: NetworkRow, decision: RowDecision)] = []
        /// The changes to write, each over its row as read.
        package var changes: [RowChange] = []
        /// Rows (as read) whose VNet the listing shows and whose `LastSeenAt` is older than the refresh interval
        /// (no state change: only `LastSeenAt` is written, many rows per transaction).
        package var seen: [Stored<NetworkRow>] = []
        /// Blocks an unmanaged VNet uses that no row covers yet: recorded as `occupied` rows.
        package var newOccupied: [(prefix: IPPrefix, resourceId: String)] = []
        /// Leases whose VNet was deployed with another prefix (reported, never fixed silently), each with what
        /// ipam does about the VNet's space.
        package var drift: [String] = []
        /// Every row as this plan leaves it (in address order, a dual-stack lease once, by its IPv4 row), with
        /// the decision the next run makes for it over the same listing: what the drift report tells. A row the
        /// plan does not change keeps its decision; a changed or newly recorded row is decided again. Computed
        /// when asked (`Reconciliation.outlook(of:)`): a plan does not hold a second copy of its scope's rows.
        package var outlook: [(row: NetworkRow, decision: RowDecision)] { Reconciliation.outlook(of: self) }
        /// The compliance of each network of the scope's own listing, over the rows as this plan leaves them
        /// (`NetworkCompliance`): what the run records and the drift report tells.
        package var compliance: [NetworkStatus] = []

        init(observation: Observation) { self.observation = observation }

        /// Every row as this plan leaves it (`rows(after:)` of the rows it was planned over), in address order.
        package internal(set) var after: [NetworkRow] = []

        /// `rows` as this plan leaves them (changes applied, rows deleted, newly recorded occupied rows added), in
        /// address order. Only the rows the plan touches are looked up by key: the scope's rows are not copied
        /// into a dictionary (a run's memory follows its scope's size).
        package func rows(after rows: [NetworkRow]) -> [NetworkRow] {
            var touched: [String: NetworkRow?] = [:]
            for change in changes {
                touched.updateValue(change.deleteRow ? nil : change.after, forKey: change.before.rowKey)
                if let companion = change.companion {
                    touched.updateValue(companion.after, forKey: companion.before.rowKey)
                }
            }
            for block in newOccupied {
                let row = NetworkRow.observed(block.prefix, usedBy: block.resourceId, seenAt: observation.now)
                touched.updateValue(row, forKey: row.rowKey)
            }
            var after: [NetworkRow] = []
            after.reserveCapacity(rows.count + newOccupied.count)
            for row in rows {
                // A run that changes nothing makes no key per row.
                if !touched.isEmpty, let replacement = touched.removeValue(forKey: row.rowKey) {
                    if let replacement { after.append(replacement) }
                } else {
                    after.append(row)
                }
            }
            after += touched.values.compactMap { $0 }
            return after.sorted { $0.prefix < $1.prefix }
        }
    }

    /// Where each row of a list is, by its row key: looked up through the block the key names (a row's key is a
    /// function of its block), so a scope's rows are indexed without a string per row.
    struct RowPositions {
        private let byPrefix: [IPPrefix: Int]

        init(_ prefixes: [IPPrefix]) {
            byPrefix = Dictionary(prefixes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        }

        /// The position of the row whose key is `key` (nil: none, or a key no row could have).
        subscript(key: String) -> Int? {
            guard let prefix = RowKeys.prefix(ofNetworkKey: key), RowKeys.network(prefix) == key else { return nil }
            return byPrefix[prefix]
        }
    }

    /// The network's prefixes, parsed leniently (host bits cleared).
    package static func prefixes(of vnet: DiscoveredNetwork) -> [IPPrefix] {
        vnet.prefixes.compactMap { try? IPPrefix.parseNormalising($0).prefix }
    }

    /// The networks of `listing` a scope's plan decides over: those in the scope's account (or subscription) and
    /// region, and, unless the scope is isolated, any whose address space overlaps the scope's, of any cloud.
    package static func vnets(_ listing: [DiscoveredNetwork], in scope: Scope, space: ScopeSupernets)
        -> [DiscoveredNetwork]
    {
        listing.filter { vnet in
            (vnet.provider == scope.cloud && vnet.account == scope.account && vnet.region == scope.region)
                || (!space.isolated
                    && prefixes(of: vnet).contains { prefix in space.supernets.contains { $0.overlaps(prefix) } })
        }
    }

    /// What one listing shows, indexed for the per-row decisions.
    package struct Observation: Sendable {
        typealias Entry = (vnet: DiscoveredNetwork, prefixes: [IPPrefix])
        let observed: [Entry]
        let byLease: [String: Entry]
        let byId: [String: Entry]
        /// Overlap look-ups through an index: rows × VNets comparisons do not scale to 100,000 VNets.
        let index: PrefixIndex<Int>
        /// The scope's own listing is whole: its leases' networks can be concluded gone.
        package let complete: Bool
        /// Every listing that could show a network in the scope's space is whole (its own, and for a scope that is
        /// not isolated every other scope's too, of every cloud): an unmanaged network using the space can be
        /// concluded gone. Implies `complete`.
        package let spaceComplete: Bool
        package let now: Date
        package let settings: ManagerSettings

        /// - Parameter spaceComplete: nil when one listing serves every scope alike (then `complete`).
        package init(
            vnets: [DiscoveredNetwork], complete: Bool, spaceComplete: Bool? = nil, now: Date,
            settings: ManagerSettings
        ) {
            let observed: [Entry] = vnets.map { ($0, Reconciliation.prefixes(of: $0)) }
            self.observed = observed
            byLease = Dictionary(
                observed.compactMap { entry in entry.vnet.tags[LeaseTag.name].map { ($0.lowercased(), entry) } },
                uniquingKeysWith: { a, _ in a })
            byId = Dictionary(observed.map { ($0.vnet.id.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
            index = PrefixIndex(observed.indices.flatMap { i in observed[i].prefixes.map { ($0, i) } })
            self.complete = complete
            self.spaceComplete = complete && (spaceComplete ?? true)
            self.now = now
            self.settings = settings
        }

        func listed(_ id: String?) -> Bool { id.map { byId[$0.lowercased()] != nil } ?? false }

        /// True when VNet `id` is listed and one of its address prefixes overlaps `prefix` (a VNet that was
        /// re-addressed away from a block no longer uses it, though it is still listed).
        func uses(_ id: String?, _ prefix: IPPrefix) -> Bool {
            id.flatMap { byId[$0.lowercased()] }.map { $0.prefixes.contains { $0.overlaps(prefix) } } ?? false
        }

        /// The VNet that belongs to `row` (tagged with its lease, the one its lease names by resource id (an
        /// adopted network), or untagged with exactly its prefix), and the first other VNet that overlaps it.
        func vnets(for row: NetworkRow) -> (own: Entry?, foreign: Entry?) {
            let overlapping = index.overlapping(row.prefix).sorted().map { observed[$0] }
            let own =
                row.leaseId.flatMap { byLease[$0.lowercased()] }
                ?? row.leaseId.flatMap { _ in row.resourceId.flatMap { byId[$0.lowercased()] } }
                ?? overlapping.first {
                    $0.vnet.tags[LeaseTag.name] == nil && $0.prefixes.contains(row.prefix) && row.leaseId != nil
                }
            let foreign = overlapping.first { $0.vnet.id.lowercased() != own?.vnet.id.lowercased() }
            return (own, foreign)
        }
    }

    /// The decision for one row: one pure function per state.
    package static func decide(_ row: NetworkRow, _ seen: Observation) -> RowDecision {
        switch row.state {
        case .leased, .quarantined, .expired, .released: return decideHeld(row, seen)
        case .anchored: return decideAnchored(row, seen)
        case .available: return decideAvailable(row, seen)
        case .occupied: return decideOccupied(row, seen)
        case .reserved: return .unchanged(seen: false)
        }
    }

    /// A lease not anchored (yet, or any more): anchor it when its VNet is there; otherwise, on a complete
    /// listing only, reap it after its grace or return it to stock after its quarantine.
    static func decideHeld(_ row: NetworkRow, _ seen: Observation) -> RowDecision {
        if let own = seen.vnets(for: row).own {
            // A dual-stack lease is anchored by one VNet that carries both of its blocks.
            guard own.prefixes.contains(row.prefix), row.partnerPrefix.map(own.prefixes.contains) ?? true else {
                return .drift(
                    "lease \(row.leaseId ?? "") holds \(row.prefixes.map(\.description).joined(separator: " and ")) but VNet \(own.vnet.id) has \(own.prefixes.map(\.description).joined(separator: ", "))"
                )
            }
            return .anchor(vnet: own.vnet.id)
        }
        guard seen.complete else { return .unchanged(seen: false) }
        if row.state == .leased, let expires = row.expiresAt,
            seen.now.timeIntervalSince(expires) > seen.settings.reapGrace
        {
            return .reap(expiredAt: expires)
        }
        // Back to stock only when no listing that could show a network using the block is missing.
        if row.state != .leased, seen.spaceComplete, let since = row.quarantinedAt,
            seen.now.timeIntervalSince(since) > seen.settings.quarantine
        {
            // Another VNet (a drifted one, say) uses the block: stock would hand it out under a deployed network.
            if let user = seen.vnets(for: row).foreign { return .holdForVNet(vnet: user.vnet.id) }
            return .returnToStock
        }
        return .unchanged(seen: false)
    }

    /// An anchored lease: its VNet is there, or (complete listings only) missing, and released once it
    /// stayed missing for two complete Syncs and the release grace.
    static func decideAnchored(_ row: NetworkRow, _ seen: Observation) -> RowDecision {
        if seen.listed(row.resourceId) || seen.vnets(for: row).own != nil {
            return row.missingSince != nil || row.missingCount != 0 ? .seenAgain : .unchanged(seen: true)
        }
        guard seen.complete else { return .unchanged(seen: false) }
        let since = row.missingSince ?? seen.now
        let count = row.missingCount + 1
        if count >= 2, seen.now.timeIntervalSince(since) >= seen.settings.releaseGrace {
            return .release(vnet: row.resourceId ?? "")
        }
        return .missing(since: since, count: count)
    }

    /// A stocked block: occupied when an unmanaged VNet uses it.
    static func decideAvailable(_ row: NetworkRow, _ seen: Observation) -> RowDecision {
        guard let foreign = seen.vnets(for: row).foreign else { return .unchanged(seen: false) }
        return .occupy(vnet: foreign.vnet.id)
    }

    /// A block an unmanaged VNet uses: still used (perhaps by another VNet now), or (complete listings
    /// only) missing, and freed or forgotten after two complete Syncs without it. A VNet that is still listed
    /// but no longer has an address prefix overlapping the block counts as gone from it.
    static func decideOccupied(_ row: NetworkRow, _ seen: Observation) -> RowDecision {
        let foreign = seen.vnets(for: row).foreign
        if let locker = row.lockedBy, seen.uses(locker, row.prefix) || foreign != nil {
            if !seen.uses(locker, row.prefix), let foreign { return .occupy(vnet: foreign.vnet.id) }
            return row.missingCount != 0 ? .seenAgain : .unchanged(seen: true)
        }
        // The unmanaged network may be of any scope or cloud whose space overlaps: all of them must be listed whole.
        guard seen.spaceComplete else { return .unchanged(seen: false) }
        let count = row.missingCount + 1
        guard count >= 2 else { return .missing(since: row.missingSince ?? seen.now, count: count) }
        return row.origin == .known(.observed)
            ? .forget(vnet: row.lockedBy ?? "") : .free(vnet: row.lockedBy ?? "")
    }

    /// How whole the listing a scope is planned over is: its own listing, and every listing that could show a
    /// network in its space (see `Observation`).
    package struct Completeness: Sendable, Equatable {
        package var own: Bool
        package var space: Bool

        package init(own: Bool, space: Bool) {
            self.own = own
            self.space = own && space
        }

        /// `scope`'s completeness in `listing`: its own, and every scope's when it is not isolated.
        package init(_ scope: Scope, isolated: Bool, in listing: DiscoveryListing) {
            self.init(own: listing.isComplete(scope), space: isolated || listing.isComplete)
        }
    }

    /// Plans one scope's run: `plan(scope:space:rows:vnets:complete:spaceComplete:now:settings:)`, as a value.
    package typealias Planner =
        @Sendable (
            _ scope: Scope, _ space: ScopeSupernets, _ rows: [Stored<NetworkRow>], _ vnets: [DiscoveredNetwork],
            _ complete: Completeness,
            _ now: Date, _ settings: ManagerSettings
        ) -> Plan

    /// One scope's run, decided once: every row's decision and change, the `LastSeenAt` refreshes, the space
    /// listed VNets use that no row covers, the drift findings, the outlook the drift report tells, and each listed
    /// network's compliance. `rows`
    /// are as read: each change is written over its row's version.
    package static func plan(
        scope: Scope, space: ScopeSupernets, rows: [Stored<NetworkRow>], vnets: [DiscoveredNetwork], complete: Bool,
        spaceComplete: Bool? = nil, now: Date, settings: ManagerSettings
    ) -> Plan {
        let observation = Observation(
            vnets: vnets, complete: complete, spaceComplete: spaceComplete, now: now, settings: settings)
        var plan = Plan(observation: observation)
        let positions = RowPositions(rows.map(\.prefix))
        for row in rows {
            // A dual-stack lease is decided once, by its IPv4 row; the decision is its IPv6 row's too.
            if row.isSecondHalf, let key = row.pairKey, positions[key] != nil { continue }
            let partner = row.pairKey.flatMap { positions[$0] }.map { rows[$0] }
            let decision = decide(row.value, observation)
            plan.decisions.append((row.value, decision))
            if case .drift(let text) = decision { plan.drift.append(text) }
            if var change = decision.change(to: row, now: now) {
                if let partner {
                    // Rows read while a Vendor changed the lease may tell different states: leave it to the next run.
                    guard partner.leaseId == row.leaseId, partner.state == row.state,
                        let mirrored = decision.change(to: partner, now: now)
                    else { continue }
                    change.companion = NetworkRow.Update(before: partner, after: mirrored.after)
                }
                plan.changes.append(change)
            } else if decision.seen {
                for held in [row] + (partner.map { [$0] } ?? [])
                where held.lastSeenAt.map({ now.timeIntervalSince($0) >= settings.lastSeenRefresh }) ?? true {
                    plan.seen.append(held)
                }
            }
        }

        // Space any listed VNet uses inside this scope's space that no row covers: recorded so carving avoids it.
        // Tagged VNets too: a tag names a lease, not the space the VNet really uses (a drifted VNet, a tag naming
        // a lease that is unknown, released or of another scope, a prefix beside its lease's block). A row inside
        // a VNet's prefix leaves the rest of the prefix uncovered: the rest is recorded as its largest free blocks.
        let rowIndex = PrefixIndex(rows.map { ($0.prefix, $0.prefix) })
        var uncovered: [(prefix: IPPrefix, resourceId: String)] = []
        func inSpace(_ prefix: IPPrefix) -> Bool { space.supernets.contains { $0.overlaps(prefix) } }
        for entry in observation.observed {
            for prefix in entry.prefixes where inSpace(prefix) {
                for free in FreeSpace.freeBlocks(in: prefix, occupied: rowIndex.overlapping(prefix)) where inSpace(free)
                {
                    uncovered.append((free, entry.vnet.id))
                }
            }
        }
        // Keep the outermost of overlapping VNet prefixes (in address order, an overlap is a containment).
        for candidate in uncovered.sorted(by: { $0.prefix < $1.prefix }) {
            if let kept = plan.newOccupied.last, kept.prefix.overlaps(candidate.prefix) { continue }
            plan.newOccupied.append(candidate)
        }
        plan.after = plan.rows(after: rows.map(\.value))
        describeDrift(in: &plan, observation: observation, space: space)
        plan.compliance = NetworkCompliance.judge(
            scope: scope, space: space, rows: plan.after, observation: observation)
        return plan
    }

    /// The rows as `plan` leaves them, each with the decision the next run makes for it over the same listing:
    /// an unchanged row keeps its decision, a changed or newly recorded one is decided as it will be read.
    /// `decide` is pure, so an unchanged row is decided again rather than looked up; only the drift findings,
    /// which `describeDrift` completed, are kept as the plan made them.
    static func outlook(of plan: Plan) -> [(row: NetworkRow, decision: RowDecision)] {
        // Keyed by block: a row's key is a function of its block.
        var decided: [IPPrefix: RowDecision] = [:]
        for (row, decision) in plan.decisions {
            if case .drift = decision { decided[row.prefix] = decision }
        }
        var changed = Set<IPPrefix>()
        for change in plan.changes {
            changed.insert(change.before.prefix)
            if let companion = change.companion { changed.insert(companion.before.prefix) }
        }
        let positions = RowPositions(plan.after.map(\.prefix))
        return plan.after.compactMap { row in
            if row.isSecondHalf, let key = row.pairKey, positions[key] != nil { return nil }
            if !changed.contains(row.prefix), let decision = decided[row.prefix] { return (row, decision) }
            return (row, decide(row, plan.observation))
        }
    }

    /// Completes each drift finding with what ipam does about the drifted VNet's space: the lease keeps its
    /// block, and every other prefix of the VNet is held (occupied, or under another let-go lease) while the
    /// VNet is listed, or, when another live lease holds part of it, named as an overlap for an operator.
    static func describeDrift(in plan: inout Plan, observation: Observation, space: ScopeSupernets) {
        guard plan.decisions.contains(where: { if case .drift = $0.decision { true } else { false } }) else { return }
        let index = PrefixIndex(plan.after.map { ($0.prefix, $0) })
        plan.drift = []
        for position in plan.decisions.indices {
            guard case .drift(let text) = plan.decisions[position].decision else { continue }
            let row = plan.decisions[position].row
            guard let own = observation.vnets(for: row).own else {
                plan.drift.append(text)
                continue
            }
            var notes: [String] = []
            for prefix in own.prefixes where prefix != row.prefix && prefix != row.partnerPrefix {
                guard space.supernets.contains(where: { $0.overlaps(prefix) }) else {
                    notes.append("\(prefix) is outside this scope's space")
                    continue
                }
                let others = index.overlapping(prefix).filter { other in
                    other.leaseId != nil && other.leaseId != row.leaseId && [.leased, .anchored].contains(other.state)
                }
                if others.isEmpty {
                    notes.append("\(prefix) is held (not vended) while the VNet uses it")
                } else {
                    let named = others.map { "\($0.prefix) of lease \($0.leaseId ?? "")" }.joined(separator: ", ")
                    notes.append(
                        "\(prefix) overlaps \(named), vended before the VNet was seen: for an operator to resolve")
                }
            }
            let kept = "ipam keeps \(row.prefixes.map(\.description).joined(separator: " and ")) for the lease"
            let described = text + "; " + ([kept] + notes).joined(separator: "; ")
            plan.decisions[position].decision = .drift(described)
            plan.drift.append(described)
        }
    }
}
