package import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath
import StrictJSON

/// A validated `POST /api/reservations`.
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

    static let allowedFields: Set<String> = [
        "cidr", "prefixlength", "subscriptionid", "region", "pool", "owner", "reason", "expiresat",
    ]

    /// Decodes and checks a request body (strictly: unknown fields, wrong types and bad values refused).
    package static func decode(_ body: [UInt8], configuration: IPAMConfiguration, now: Date) throws(DomainError)
        -> ReservationRequest
    {
        do throws(RequestProblem) {
            let fields = try LeaseRequestDecoder.fields(body, allowed: allowedFields)
            func text(_ name: String, _ field: String, limit: Int, required: Bool) throws(RequestProblem) -> String? {
                guard let value = fields[name] else {
                    if required {
                        throw RequestProblem(code: .missingField, field: field, message: "'\(field)' is required")
                    }
                    return nil
                }
                guard let text = value.stringValue, !text.isEmpty, text.count <= limit,
                    !text.contains(where: { $0.isNewline })
                else {
                    throw RequestProblem(
                        code: .invalidField, field: field,
                        message: "'\(field)' must be a string of 1–\(limit) characters on one line")
                }
                return text
            }
            let (scope, pool) = try LeaseRequestDecoder.resolvePool(fields, configuration: configuration)
            let owner = try text("owner", "owner", limit: 128, required: true)!
            let reason = try text("reason", "reason", limit: 256, required: true)!
            var prefix: IPPrefix? = nil
            if let cidr = try text("cidr", "cidr", limit: 64, required: false) {
                do { prefix = try IPPrefix(parsing: cidr) } catch {
                    throw RequestProblem(code: .invalidField, field: "cidr", message: "\(error)")
                }
            }
            var length = prefix?.length ?? 0
            if let raw = fields["prefixlength"] {
                guard prefix == nil else {
                    throw RequestProblem(
                        code: .invalidField, field: "prefixLength", message: "give 'cidr' or 'prefixLength', not both")
                }
                guard case .number(let lexeme) = raw, let value = Int(lexeme), (1...128).contains(value) else {
                    throw RequestProblem(
                        code: .invalidPrefixLength, field: "prefixLength",
                        message: "'prefixLength' must be a whole number from 1 to 128")
                }
                length = value
            }
            guard prefix != nil || fields["prefixlength"] != nil else {
                throw RequestProblem(code: .missingField, field: "cidr", message: "give 'cidr' or 'prefixLength'")
            }
            var expiresAt: Date? = nil
            if let text = try text("expiresat", "expiresAt", limit: 64, required: false) {
                guard let date = ISO8601.parse(text) else {
                    throw RequestProblem(
                        code: .invalidField, field: "expiresAt", message: "'expiresAt' must be an ISO 8601 time")
                }
                guard date > now else {
                    throw RequestProblem(code: .invalidField, field: "expiresAt", message: "'expiresAt' is in the past")
                }
                expiresAt = date
            }
            if let prefix, let pool, !pool.prefix.contains(prefix) {
                throw RequestProblem(
                    code: .outsideSupernets, field: "cidr",
                    message: "\(prefix) is outside pool '\(pool.name)' (\(pool.prefix))")
            }
            var request = ReservationRequest(
                scope: scope, prefix: prefix, prefixLength: length, owner: owner, reason: reason, expiresAt: expiresAt)
            request.pool = pool?.name
            return request
        } catch {
            throw .badRequest(error)
        }
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
                    expiresAt: request.expiresAt, createdBy: AuditContext.current?.actor ?? caller, now: time.now())
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
