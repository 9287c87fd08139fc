import Foundation
import IPAMCore
import Inventory
import NetworkMath

/// Pools' rules and quotas as the Vendor applies them (docs/Design.md, "Pools").
extension VendorService {
    /// Who a pool request counts for: the body's `requester`, else the caller's identity.
    func quotaHolder(_ request: LeaseRequest) -> String? {
        request.requester ?? request.owner?.name
    }

    /// The usage rows a request in a pool counts in: one per level of the pool's hierarchy that has a quota.
    func quotaCharges(_ request: LeaseRequest) -> [(pool: String, requester: String)] {
        guard let pool = request.pool else { return [] }
        let holder = quotaHolder(request) ?? "anonymous"
        return configuration.pools.lineage(pool).filter { !$0.quota.isEmpty }.map { ($0.name, holder) }
    }

    /// Refuses a requester that a level of the pool's hierarchy does not allow (403 `RequesterNotAllowed`).
    func checkRequester(_ request: LeaseRequest) throws(VendorError) {
        guard let pool = request.pool else { return }
        let holder = quotaHolder(request) ?? ""
        for level in configuration.pools.lineage(pool) {
            if let allowed = level.rules.allowedRequesters, !allowed.contains(holder) {
                throw VendorError(.requesterNotAllowed, "pool '\(level.name)' does not allow requester '\(holder)'", field: request.requester == nil ? nil : "requester",
                                  details: ["pool": level.name, "requester": holder])
            }
        }
    }

    /// The refusal when one lease more of `size` addresses would pass a quota these counters are checked
    /// against; nil when it fits.
    func quotaRefusal(_ counters: [UsageRow], adding size: UInt64) -> VendorError? {
        for counter in counters {
            guard let quota = configuration.pools.pools[counter.pool]?.quota else { continue }
            if let limit = quota.maxLeasesPerRequester, counter.leases + 1 > limit {
                return VendorError(.quotaExceeded, "requester '\(counter.requester)' holds \(counter.leases) of the \(limit) leases pool '\(counter.pool)' allows",
                                   details: ["pool": counter.pool, "requester": counter.requester, "quota": "maxLeasesPerRequester",
                                             "limit": String(limit), "current": String(counter.leases)])
            }
            if let limit = quota.maxAddressesPerRequester, counter.addresses + size > limit {
                return VendorError(.quotaExceeded, "requester '\(counter.requester)' holds \(counter.addresses) addresses in pool '\(counter.pool)'; \(size) more would pass its \(limit)",
                                   details: ["pool": counter.pool, "requester": counter.requester, "quota": "maxAddressesPerRequester",
                                             "limit": String(limit), "current": String(counter.addresses)])
            }
        }
        return nil
    }
}
