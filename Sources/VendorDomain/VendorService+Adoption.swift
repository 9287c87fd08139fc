import Foundation
package import IPAMCore
import Inventory
import Logging
import NetworkMath

/// Adopting existing networks: an existing VNet's block under a lease as it is (docs/Design.md, "Adoption").
extension VendorService {
    /// Leases the request's existing block (`request.adoption`) as it is, once per SessionId: 201 when it overlaps
    /// only free space, stock, or rows the Manager locked for the same VNet; a replay answers the same lease.
    package func adoptNetwork(_ request: LeaseRequest) async throws(DomainError) -> LeaseAnswer {
        guard let adoption = request.adoption else { throw .notAnAdoption }
        if let answer = try await replay(request) { return answer }
        guard let space = configuration.scopes[request.scope] else {
            throw .unknownScope(request.scope)
        }
        try checkRange(adoption.prefix, in: space, scope: request.scope)
        if let v6 = adoption.prefixV6 { try checkRange(v6, in: space, scope: request.scope, field: "cidrV6") }
        let started = time.uptime()
        for attempt in 0..<64 where time.uptime() - started < deadline {
            await pauseForHead(beforeAttempt: attempt)
            let draft = newLease(request, at: time.now())
            let outcome = try await storage { () async throws(InventoryError) in
                try await inventory.adopt(
                    adoption.prefix, v6: adoption.prefixV6, for: draft, resourceId: adoption.resourceId,
                    in: request.scope, now: draft.leasedAt, occupied: occupiedSpace)
            }
            switch outcome {
            case .adopted(let row):
                return await won(row.value, request, nil, message: "adopted")
            case .overlap(let conflicts):
                // The block may be this very session's, adopted by a concurrent call meanwhile: that is a replay.
                if conflicts.contains(where: { $0.leaseId != nil }), let answer = try await replay(request) {
                    return answer
                }
                throw .overlap(adoption.prefix, conflicts: conflicts)
            case .tooLarge:
                throw .tooManyStockedBlocks(adoption.prefix, taking: .adoption)
            case .sessionTaken:
                if let answer = try await replay(request) { return answer }
            case .changed:
                continue
            case .outcomeUnknown:
                if let answer = try await replay(request) { return answer }
            }
        }
        throw .busy("the scope kept changing while the network was adopted")
    }

    /// Before a retry of a write under the scope's head (an adoption, a reservation): carves and claims move the
    /// head all the time on a busy scope, so back off, jittered, growing with the attempts (none before the first).
    func pauseForHead(beforeAttempt attempt: Int) async {
        guard attempt > 0 else { return }
        try? await time.sleep(.milliseconds(Int.random(in: 0...min(100, 4 << min(attempt, 5)))))
    }

    /// Refuses a range outside every supernet of the scope (422 `OutsideSupernets`) or over a configured
    /// exclusion (409 `Overlap`).
    func checkRange(_ prefix: IPPrefix, in space: ScopeSupernets, scope: Scope, field: String = "cidr")
        throws(DomainError)
    {
        guard space.supernets.contains(where: { $0.contains(prefix) }) else {
            throw .outsideSupernets(prefix, scope: scope, supernets: space.supernets, field: field)
        }
        let excluded = space.exclude.filter { $0.overlaps(prefix) }
        if !excluded.isEmpty {
            throw .excluded(prefix, exclusions: excluded, field: field)
        }
    }
}
