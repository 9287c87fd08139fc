import Foundation
import IPAMCore
import Inventory
import NetworkMath

/// Pools' rules and quotas as the Vendor applies them (docs/Design.md, "Pools").
extension VendorService {
    /// Who a pool request is checked and counted as: the authenticated caller (`request.owner`, set by the edge),
    /// never the body's `requester`, which is only a label for listings. `anonymous` with authentication off.
    func quotaHolder(_ request: LeaseRequest) -> Principal {
        request.owner ?? redactor.principal("anonymous")
    }

    /// The usage rows a request in a pool counts in: one per level of the pool's hierarchy that has a quota.
    func quotaCharges(_ request: LeaseRequest) -> [QuotaCharge] {
        guard let pool = request.pool else { return [] }
        let holder = quotaHolder(request)
        let levels = configuration.pools.lineage(pool).filter { !$0.quota.isEmpty }
        guard !levels.isEmpty else { return [] }
        let sealed = redactor.seal(holder)
        return levels.map { QuotaCharge(pool: $0.name, holderKey: holder.key, sealedHolder: sealed) }
    }

    /// Refuses a caller that a level of the pool's hierarchy does not allow (403 `RequesterNotAllowed`). The
    /// allow-lists name principals (`PrincipalName`: a key's name, a token's `jwt:…`), matched against the caller.
    func checkRequester(_ request: LeaseRequest) throws(DomainError) {
        guard let pool = request.pool else { return }
        let holder = quotaHolder(request)
        for level in configuration.pools.lineage(pool) {
            if let allowed = level.rules.allowedRequesters, !allowed.contains(holder.name) {
                throw .requesterNotAllowed(pool: level.name, caller: holder.name)
            }
        }
    }

    /// How a usage row's holder is shown (`GET /api/pools`): its name, or with `AUDIT_REDACT_ACTORS` its key (as
    /// audit events name actors); a row from before shows its requester the same way.
    func holderLabel(_ row: UsageRow) -> String {
        if let legacy = row.legacyRequester { return redactActors ? redactor.principal(legacy).key : legacy }
        if redactActors { return row.holderKey }
        return row.sealedHolder.flatMap(redactor.open)?.name ?? "key:" + row.holderKey
    }

    /// The refusal when one lease more of `size` addresses would pass a quota these counters are checked
    /// against; nil when it fits.
    func quotaRefusal(_ counters: [UsageRow], adding size: UInt64) -> DomainError? {
        for counter in counters {
            guard let quota = configuration.pools.pools[counter.pool]?.quota else { continue }
            if let limit = quota.maxLeasesPerRequester, counter.leases + 1 > limit {
                return .quotaExceeded(pool: counter.pool, .leases(limit: limit, current: counter.leases))
            }
            if let limit = quota.maxAddressesPerRequester, counter.addresses + size > limit {
                return .quotaExceeded(
                    pool: counter.pool, .addresses(limit: limit, current: counter.addresses, adding: size))
            }
        }
        return nil
    }
}
