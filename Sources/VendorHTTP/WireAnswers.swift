import Foundation
package import IPAMCore
package import Inventory
import NetworkMath
import StrictJSON
package import VendorAPI
package import VendorDomain

/// The domain's values as the API's answers (`API.…` of VendorAPI): the one place the edge turns what the
/// service returns into what goes on the wire.

/// Storage's reservation, named apart from the answer of the same name.
typealias StoredReservation = Reservation
/// Storage's dead letter, named apart from the answer of the same name.
typealias StoredDeadLetter = DeadLetter

extension Scope {
    /// The `cloud` member of an answer about this scope: `aws` on AWS, left out on Azure (`API.scopeOwnerMembers`).
    var wireCloud: String? { cloud == .azure ? nil : cloud.rawValue }
}

extension API.Lease {
    /// A lease just made, replayed or adopted.
    package init(_ answer: LeaseAnswer) {
        let v6 = Dictionary(answer.subnetsV6.map { ($0.name, $0.prefix) }, uniquingKeysWith: { a, _ in a })
        self.init(
            leaseId: answer.leaseId, sessionId: answer.sessionId, cidr: answer.prefix.description,
            prefixLength: answer.prefix.length, scope: answer.scope.partitionKey,
            subscription: answer.scope.subscriptionId, cloud: answer.scope.wireCloud,
            accountId: answer.scope.awsAccountId, region: answer.scope.region, state: answer.state.rawValue,
            cidrV6: answer.prefixV6?.description, prefixLengthV6: answer.prefixV6?.length,
            expiresAt: answer.expiresAt, tag: Tag(name: LeaseAnswer.tagName, value: answer.leaseId),
            subnets: answer.subnets.map {
                Subnet(name: $0.name, cidr: $0.prefix.description, cidrV6: v6[$0.name]?.description)
            })
    }
}

extension API.NetworkPreview {
    /// A dry run's answer.
    package init(_ preview: NetworkPreview) {
        self.init(
            sessionId: preview.sessionId, cidr: preview.prefix.description, prefixLength: preview.prefix.length,
            cidrV6: preview.prefixV6?.description, prefixLengthV6: preview.prefixV6?.length,
            scope: preview.scope.partitionKey, subscription: preview.scope.subscriptionId,
            cloud: preview.scope.wireCloud, accountId: preview.scope.awsAccountId, region: preview.scope.region,
            pool: preview.pool,
            subnets: preview.subnets.map {
                API.Lease.Subnet(name: $0.name, cidr: $0.prefix.description, cidrV6: $0.prefixV6?.description)
            },
            heldLease: preview.existing.map {
                HeldLease(leaseId: $0.leaseId, state: $0.state.rawValue, expiresAt: $0.expiresAt)
            })
    }
}

extension API.HistoryEntry {
    /// One holding of one block as the history answers it.
    init(_ entry: HistoryEntry) {
        self.init(
            kind: entry.kind.rawValue, cidr: entry.prefix.description, scope: entry.scope.partitionKey,
            subscription: entry.scope.subscriptionId, cloud: entry.scope.wireCloud,
            accountId: entry.scope.awsAccountId, region: entry.scope.region, leaseId: entry.leaseId,
            sessionId: entry.sessionId, requester: entry.requester, resourceId: entry.resourceId,
            reservationId: entry.reservationId,
            states: entry.states.map { API.HistoryState(state: $0.state, from: $0.from, to: $0.to) })
    }
}

extension API.LeaseRecord {
    /// A lease's row in `scope`.
    package init(_ row: NetworkRow, scope: Scope) {
        let blocks = row.blocks
        self.init(
            leaseId: row.leaseId, sessionId: row.sessionId, cidr: blocks.primary.description,
            prefixLength: blocks.primary.length, cidrV6: blocks.v6?.description, scope: scope.partitionKey,
            subscription: scope.subscriptionId, cloud: scope.wireCloud, accountId: scope.awsAccountId,
            region: scope.region, state: row.state.rawValue,
            leasedAt: row.leasedAt, expiresAt: row.state == .anchored ? nil : row.expiresAt,
            anchoredAt: row.anchoredAt, resourceId: row.resourceId, requester: row.requester, tags: row.tags,
            pool: row.pool)
    }

    /// What `DELETE` of a lease answers in `scope`: its row, or the lease as its last event told it.
    init(_ deleted: DeletedLease, scope: Scope) {
        switch deleted {
        case .row(let row): self.init(row, scope: scope)
        case .past(let lease):
            var (primary, v6) = (lease.prefix, lease.prefixV6)
            if let other = v6, primary.version == .v6 { (primary, v6) = (other, primary) }
            self.init(
                leaseId: lease.leaseId, sessionId: lease.sessionId, cidr: primary.description,
                prefixLength: primary.length, cidrV6: v6?.description, scope: scope.partitionKey,
                subscription: scope.subscriptionId, cloud: scope.wireCloud, accountId: scope.awsAccountId,
                region: scope.region, state: lease.state.rawValue,
                leasedAt: nil, expiresAt: nil, anchoredAt: nil, resourceId: nil, requester: nil, tags: [:],
                pool: nil)
        }
    }
}

extension API.Reservation {
    /// A reservation in `scope`; a configured exclusion (`readOnly`) has no creation time.
    init(_ reservation: StoredReservation, scope: Scope, readOnly: Bool) {
        self.init(
            reservationId: reservation.id, cidr: reservation.prefix.description, scope: scope.partitionKey,
            subscription: scope.subscriptionId, cloud: scope.wireCloud, accountId: scope.awsAccountId,
            region: scope.region, owner: reservation.owner,
            reason: reservation.reason, expiresAt: reservation.expiresAt,
            createdAt: readOnly ? nil : reservation.createdAt, createdBy: reservation.createdBy, readOnly: readOnly)
    }
}

extension API.HostIP {
    init(_ answer: HostIPAnswer) {
        self.init(
            ip: answer.ip.description, principal: answer.principal, subnet: answer.subnet,
            subnetCidr: answer.subnetPrefix.description, leaseId: answer.leaseId, allocatedAt: answer.allocatedAt,
            ipV6: answer.ipV6?.description, subnetCidrV6: answer.subnetPrefixV6?.description)
    }
}

extension API.Member {
    init(_ member: MemberAnswer) {
        self.init(principal: member.principal, role: member.role.rawValue, addedAt: member.addedAt)
    }
}

extension API.Pools.Report {
    /// A scope's or pool's report, with the pool's limits and required tags as `configuration` resolves them (the
    /// console's pools page shows these very values).
    package init(_ report: PoolReport, configuration: IPAMConfiguration) {
        let scope = report.scope
        var definition: API.Pools.Definition? = nil
        if let pool = report.pool {
            let limits = configuration.lengths(pool: pool.name, version: pool.prefix.version)
            definition = API.Pools.Definition(
                parent: pool.parent, cidr: pool.prefix.description, owner: pool.owner, labels: pool.labels,
                rules: API.Pools.Rules(
                    minPrefixLength: limits.min, maxPrefixLength: limits.max, defaultPrefixLength: limits.default,
                    requiredTags: configuration.pools.lineage(pool.name).flatMap(\.rules.requiredTags),
                    allowedRequesters: pool.rules.allowedRequesters),
                quota: API.Pools.Quota(
                    maxLeasesPerRequester: pool.quota.maxLeasesPerRequester,
                    maxAddressesPerRequester: pool.quota.maxAddressesPerRequester),
                usage: report.usage.map {
                    API.Pools.Usage(requester: $0.requester, leases: $0.leases, addresses: $0.addresses)
                })
        }
        self.init(
            scope: scope.partitionKey, subscription: scope.subscriptionId, cloud: scope.wireCloud,
            accountId: scope.awsAccountId,
            region: scope.region,
            pool: report.pool?.name, freeAddresses: report.freeAddresses,
            largestFreePrefixLength: report.largestFreePrefixLength == 0 ? nil : report.largestFreePrefixLength,
            freeAddressesV6: report.freeAddressesV6,
            largestFreePrefixLengthV6: report.largestFreePrefixLengthV6 == 0 ? nil : report.largestFreePrefixLengthV6,
            sizes: report.sizes.keys.sorted().map { size in
                let counts = report.sizes[size]!
                return API.Pools.Size(
                    prefixLength: size.length, ipVersion: size.version == .v4 ? "v4" : "v6",
                    states: API.Counts(NetworkState.allCases.map { API.Counts.Entry($0.rawValue, counts[$0] ?? 0) }))
            },
            stock: API.Counts(
                report.stockTargets.keys.sorted().map { API.Counts.Entry($0.key, report.stockTargets[$0]!) }),
            definition: definition)
    }
}

extension API.WebhookDeliveries {
    /// Where `webhook`'s deliveries stand: its cursors per scope and its dead letters.
    init(_ webhook: Webhook, cursors: [WebhookCursor], deadLetters: [StoredDeadLetter]) {
        self.init(
            webhook: webhook.name, url: webhook.url, events: webhook.events.sorted(),
            cursors: cursors.map { cursor in
                Cursor(
                    scope: cursor.scope.partitionKey,
                    // a cursor that has passed no event yet names none
                    lastEventId: cursor.lastEvent.hasPrefix(RowKeys.eventPrefix) && cursor.lastEvent.count > 26
                        ? cursor.lastEvent : nil,
                    delivered: cursor.delivered, deadLettered: cursor.deadLettered,
                    lastDeliveredAt: cursor.lastDeliveredAt, attempts: cursor.attempts,
                    nextAttemptAt: cursor.nextAttemptAt, lastError: cursor.lastError, holder: cursor.holder,
                    heldUntil: cursor.heldUntil)
            },
            deadLetters: deadLetters.map { letter in
                DeadLetter(
                    eventId: letter.eventId, type: letter.type, scope: letter.scope.partitionKey,
                    attempts: letter.attempts, lastError: letter.lastError, deadAt: letter.deadAt,
                    body: (try? JSONValue.parse(Array(letter.body.utf8))) ?? .string(letter.body))
            })
    }
}
