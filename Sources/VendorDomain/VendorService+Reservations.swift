package import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath

/// A validated `POST /api/reservations` (the edge's `RequestValidation` checks the body and makes it).
package struct ReservationRequest: Sendable {
    package let scope: Scope
    /// The range, or nil for "the smallest free block of `prefixLength`".
    package let prefix: IPPrefix?
    package let prefixLength: Int
    package let owner: String
    package let reason: String
    package let expiresAt: Date?
    /// The pool a size-only reservation is taken from (a `cidr` must then lie inside it).
    package var pool: String? = nil

    package init(
        scope: Scope, prefix: IPPrefix?, prefixLength: Int, owner: String, reason: String, expiresAt: Date?,
        pool: String? = nil
    ) {
        self.scope = scope
        self.prefix = prefix
        self.prefixLength = prefixLength
        self.owner = owner
        self.reason = reason
        self.expiresAt = expiresAt
        self.pool = pool
    }
}

/// Reservations: ranges held back from vending (docs/Design.md, "Reservations").
extension VendorService {
    /// The prefix of a configured exclusion's read-only reservation id.
    package static let configuredReservationPrefix = "configuration-"

    /// Reserves the request's range (or the smallest free block of its size) for `caller`.
    package func reserve(_ request: ReservationRequest, caller: String) async throws(DomainError) -> (
        Reservation, Scope
    ) {
        guard let scopeSpace = configuration.scopes[request.scope],
            let space = configuration.space(request.scope, pool: request.pool)
        else {
            throw .unknownScope(request.scope)
        }
        if let prefix = request.prefix {
            try checkRange(prefix, in: scopeSpace, scope: request.scope)
        } else if !space.supernets.contains(where: {
            $0.length <= request.prefixLength && request.prefixLength <= $0.version.bitWidth
        }) {
            throw .noSupernetHolds(scope: request.scope, prefixLength: request.prefixLength)
        }
        let id = LeaseDraft.newLeaseId()
        let started = time.uptime()
        for attempt in 0..<64 where time.uptime() - started < deadline {
            await pauseForHead(beforeAttempt: attempt)
            let outcome = try await storage { () async throws(InventoryError) in
                try await inventory.reserve(
                    request.prefix, length: request.prefixLength, in: space, id: id, owner: request.owner,
                    reason: request.reason,
                    expiresAt: request.expiresAt, createdBy: AuditContext.current?.actor ?? caller, now: time.now(),
                    occupied: occupiedSpace)
            }
            switch outcome {
            case .reserved(let reservation): return (reservation, request.scope)
            case .overlap(let conflicts):
                throw .overlap(request.prefix, conflicts: conflicts)
            case .tooLarge:
                throw .tooManyStockedBlocks(request.prefix, taking: .reservation)
            case .exhausted:
                throw .scopeExhausted(scope: request.scope, prefixLength: request.prefixLength)
            case .changed:
                continue
            case .outcomeUnknown:
                if let found = try await storage({ () async throws(InventoryError) in
                    try await inventory.reservation(id, in: request.scope)
                }) {
                    return (found, request.scope)
                }
            }
        }
        throw .busy("the scope kept changing while the reservation was made")
    }

    /// Every reservation of `scopes`, configured exclusions first (read-only), then in id order.
    package func reservations(in scopes: [Scope]) async throws(DomainError) -> [(Reservation, Scope, readOnly: Bool)] {
        var result: [(Reservation, Scope, readOnly: Bool)] = []
        for scope in scopes.sorted() {
            for excluded in configuration.scopes[scope]?.exclude ?? [] {
                result.append(
                    (
                        Reservation(
                            id: Self.configuredReservationPrefix
                                + excluded.description.replacingOccurrences(of: "/", with: "_"), prefix: excluded,
                            owner: "configuration", reason: "configuration", expiresAt: nil, createdAt: .distantPast,
                            createdBy: "SUPERNETS_CONFIG"), scope, true
                    ))
            }
            let stored = try await storage { () async throws(InventoryError) in
                try await inventory.reservations(in: scope)
            }
            result += stored.map { ($0, scope, false) }
        }
        return result
    }

    /// Ends reservation `id` (its range is free again). Nil when there is none (nothing done: idempotent).
    package func unreserve(id: String) async throws(DomainError) -> (Reservation, Scope)? {
        if id.hasPrefix(Self.configuredReservationPrefix) {
            throw .reservationReadOnly(reservationId: id)
        }
        guard UUID(uuidString: id) != nil else {
            throw .invalidReservationId(id)
        }
        for scope in configuration.scopes.keys.sorted() {
            for _ in 0..<8 {
                guard
                    let reservation = try await storage(
                        { () async throws(InventoryError) in try await inventory.reservation(id.lowercased(), in: scope)
                        })
                else { break }
                let outcome = try await storage { () async throws(InventoryError) in
                    try await inventory.endReservation(reservation, in: scope, action: .unreserve, now: time.now())
                }
                switch outcome {
                case .done?, nil: return (reservation, scope)
                case .changed?, .outcomeUnknown?: continue
                }
            }
        }
        return nil
    }
}
