import Foundation
import Synchronization

/// What the soak's clients were told: every lease, host address and reservation a 2xx answer acknowledged, what
/// they released, and any replay that answered differently. The checks hold the table to it.
///
/// Thread-safe: the clients record into one ledger while the checks take snapshots of it.
package final class SoakLedger: Sendable {
    /// A lease a 2xx answer acknowledged.
    package struct Lease: Sendable, Equatable, Codable {
        package var leaseId: String
        package var sessionId: String
        package var cidr: String
        /// The pool it was leased from (nil: the scope's own space).
        package var pool: String?
        /// The client (its key's name) that holds it.
        package var holder: String
        /// Its release was acknowledged (2xx).
        package var released = false

        package init(leaseId: String, sessionId: String, cidr: String, pool: String? = nil, holder: String) {
            self.leaseId = leaseId
            self.sessionId = sessionId
            self.cidr = cidr
            self.pool = pool
            self.holder = holder
        }
    }

    /// A host address a 2xx answer acknowledged.
    package struct HostAddress: Sendable, Equatable, Codable {
        package var leaseId: String
        package var principal: String
        package var ip: String
        package var released = false

        package init(leaseId: String, principal: String, ip: String) {
            self.leaseId = leaseId
            self.principal = principal
            self.ip = ip
        }
    }

    /// A reservation a 2xx answer acknowledged.
    package struct Reservation: Sendable, Equatable, Codable {
        package var reservationId: String
        package var cidr: String
        package var ended = false

        package init(reservationId: String, cidr: String) {
            self.reservationId = reservationId
            self.cidr = cidr
        }
    }

    /// Everything recorded so far, as values.
    package struct Snapshot: Sendable, Equatable {
        package var leases: [String: Lease] = [:]
        /// By lease id, then principal.
        package var hostAddresses: [String: [String: HostAddress]] = [:]
        package var reservations: [String: Reservation] = [:]
        /// A replay (the same SessionId and body again) answered another lease or block, or a lease's id twice.
        package var contradictions: [String] = []
        /// A quota refused a client that held fewer live leases in the pool than the quota allows.
        package var wrongRefusals: [String] = []

        package init() {}

        package var liveLeases: [Lease] { leases.values.filter { !$0.released } }
    }

    private let state = Mutex(Snapshot())

    package init() {}

    package var snapshot: Snapshot { state.withLock { $0 } }

    /// Records a 2xx answer to a new lease, or to a replay of one: a replay must answer the lease first answered.
    package func acknowledged(_ lease: Lease) {
        state.withLock { snapshot in
            if let known = snapshot.leases[lease.leaseId] {
                if known.cidr != lease.cidr || known.sessionId != lease.sessionId {
                    snapshot.contradictions.append(
                        "lease \(lease.leaseId) answered as \(lease.cidr) (session \(lease.sessionId)), first as \(known.cidr) (session \(known.sessionId))"
                    )
                }
                return
            }
            if let other = snapshot.leases.values.first(where: { $0.sessionId == lease.sessionId }) {
                snapshot.contradictions.append(
                    "session \(lease.sessionId) answered lease \(lease.leaseId) (\(lease.cidr)), first \(other.leaseId) (\(other.cidr))"
                )
                return
            }
            snapshot.leases[lease.leaseId] = lease
        }
    }

    /// Records an acknowledged release of a lease (and of its host addresses with it).
    package func released(leaseId: String) {
        state.withLock { snapshot in
            snapshot.leases[leaseId]?.released = true
            if var addresses = snapshot.hostAddresses[leaseId] {
                for key in addresses.keys { addresses[key]?.released = true }
                snapshot.hostAddresses[leaseId] = addresses
            }
        }
    }

    /// Records a 2xx host address: the same principal keeps its address (stable per principal).
    package func acknowledged(_ address: HostAddress) {
        state.withLock { snapshot in
            if let known = snapshot.hostAddresses[address.leaseId]?[address.principal], !known.released,
                known.ip != address.ip
            {
                snapshot.contradictions.append(
                    "\(address.principal) in lease \(address.leaseId) answered \(address.ip), held \(known.ip)")
            }
            snapshot.hostAddresses[address.leaseId, default: [:]][address.principal] = address
        }
    }

    package func releasedHostAddress(leaseId: String, principal: String) {
        state.withLock { $0.hostAddresses[leaseId]?[principal]?.released = true }
    }

    package func acknowledged(_ reservation: Reservation) {
        state.withLock { $0.reservations[reservation.reservationId] = reservation }
    }

    package func ended(reservationId: String) {
        state.withLock { $0.reservations[reservationId]?.ended = true }
    }

    /// Records a contradiction the caller found itself (a replay answered 201, say).
    package func contradiction(_ text: String) { state.withLock { $0.contradictions.append(text) } }

    /// Records a quota refusal while the client held `held` live leases in the pool, allowed `limit`.
    package func quotaRefused(holder: String, pool: String, held: Int, limit: Int) {
        guard held < limit else { return }
        state.withLock {
            $0.wrongRefusals.append("\(holder) was refused by pool \(pool)'s quota holding \(held) of \(limit) leases")
        }
    }
}
