internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// A range held back from vending: never handed out or carved over while it exists.
package struct Reservation: Sendable, Equatable {
    package let id: String
    package let prefix: IPPrefix
    package let owner: String
    package let reason: String
    package let expiresAt: Date?
    package let createdAt: Date
    /// Who made it (the caller, or its keyed hash).
    package let createdBy: String
    package var etag: String?

    package init(
        id: String, prefix: IPPrefix, owner: String, reason: String, expiresAt: Date?, createdAt: Date,
        createdBy: String
    ) {
        self.id = id
        self.prefix = prefix
        self.owner = owner
        self.reason = reason
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    func entity(partitionKey: String) -> TableEntity {
        var properties: [String: TableValue] = [
            "ReservationId": .string(id), "Cidr": .string(prefix.description),
            "NetworkRowKey": .string(RowKeys.network(prefix)),
            "Owner": .string(owner), "Reason": .string(reason), "CreatedAt": .dateTime(createdAt),
            "CreatedBy": .string(createdBy),
        ]
        if let expiresAt { properties["ExpiresAt"] = .dateTime(expiresAt) }
        return TableEntity(partitionKey: partitionKey, rowKey: RowKeys.reservation(id), properties: properties)
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.reservationPrefix), let id = entity["ReservationId"]?.stringValue,
            let prefix = entity["Cidr"]?.stringValue.flatMap({ try? IPPrefix(parsing: $0) })
        else { return nil }
        self.init(
            id: id, prefix: prefix, owner: entity["Owner"]?.stringValue ?? "",
            reason: entity["Reason"]?.stringValue ?? "",
            expiresAt: entity["ExpiresAt"]?.dateValue, createdAt: entity["CreatedAt"]?.dateValue ?? .distantPast,
            createdBy: entity["CreatedBy"]?.stringValue ?? "")
        etag = entity.etag
    }
}

/// How a reservation ended.
package enum ReserveOutcome: Sendable, Equatable {
    case reserved(Reservation)
    /// The range overlaps rows that are not free space (nothing was written).
    case overlap([RangeConflict])
    /// `prefixLength` was asked and no block of that size is free.
    case exhausted
    /// Taking the range would need more than one transaction (too many stocked blocks inside it).
    case tooLarge
    /// Another writer moved the head or a row meanwhile: nothing was written; try again.
    case changed
    /// The answer was lost: the reservation may exist (its id tells).
    case outcomeUnknown
}

extension RowKeys {
    package static let reservationPrefix = "reservation_"
    package static func reservation(_ id: String) -> String { reservationPrefix + id }
}

extension Inventory {
    /// Reserves `prefix` (or, when nil, the smallest free block of `length`) in `scope`, under the scope's
    /// head like a carve. Free space and stocked (`available`) blocks may be reserved: a stocked block inside
    /// the range is taken out of stock, one that contains it is split and the rest goes back to stock, all in
    /// the one transaction. Anything else in the range (leases, occupied space, other reservations) is an
    /// overlap and nothing is written.
    ///
    /// With `occupied` (the process's occupied space, kept current by the head's log, as a carve's), the range is
    /// found without reading the partition and only the rows overlapping it are read
    /// (`rows(overlapping:in:head:occupied:)`); without it, every network row is read.
    package func reserve(
        _ prefix: IPPrefix?, length: Int, in space: ScopeSupernets, id: String, owner: String, reason: String,
        expiresAt: Date?,
        createdBy: String, now: Date, occupied: OccupiedSpace? = nil
    ) async throws(InventoryError) -> ReserveOutcome {
        let scope = space.scope
        let head = try await self.head(of: scope)
        guard
            let (chosen, rows) = try await rangeToReserve(
                prefix, length: length, in: space, head: head, occupied: occupied)
        else { return .exhausted }
        let take = Self.take(chosen, from: rows, scope: scope)
        guard take.conflicts.isEmpty else { return .overlap(take.conflicts) }
        let reservedRow = NetworkRow(
            prefix: chosen,
            holding: .reserved(
                NetworkRow.ReservedHold(lockedBy: "reservation:" + id, owner: owner, expiresAt: expiresAt, since: now)))
        var transaction = InventoryTransaction()
        transaction.add(.head, Self.takeHead(head, adding: [chosen] + take.added, scope: scope, now: now))
        transaction.add(.taken, take.actions)
        transaction.add(.network(chosen), take.holding(reservedRow, scope: scope))
        transaction.add(.history, take.history(action: .reserve, scope: scope, now: now))
        transaction.add(.history, Self.historyActions([reservedRow], action: .reserve, scope: scope, now: now))
        let reservation = Reservation(
            id: id, prefix: chosen, owner: owner, reason: reason, expiresAt: expiresAt, createdAt: now,
            createdBy: createdBy)
        transaction.add(.reservation(id), .insert(reservation.entity(partitionKey: scope.partitionKey)))
        let tookStock = take.replaced != nil || !take.actions.isEmpty
        transaction.add(
            .event,
            .insert(
                event(
                    .reserve, reservedRow, before: tookStock ? .available : nil,
                    detail: "reservation \(id): \(reason)"
                        + (take.backToStock.isEmpty
                            ? "" : "; back to stock: \(take.backToStock.map(\.description).joined(separator: " "))")
                )
                .entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
        guard transaction.count <= 100 else { return .tooLarge }
        do {
            _ = try await transaction.commit { try await submit($0) }
            await occupied?.record(scope, from: head?.version ?? 0, added: [chosen] + take.added)
            return .reserved(reservation)
        } catch {
            switch error.kind {
            case .refused: return .changed
            case .unknown: return .outcomeUnknown
            case .failed: throw error.error
            }
        }
    }

    /// Every reservation of the scope (its `reservation_` rows), in id order.
    package func reservations(in scope: Scope) async throws(InventoryError) -> [Reservation] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.reservationPrefix, in: scope.partitionKey), Reservation.init(entity:))
        }
    }

    /// The reservation `id` in `scope`, nil when there is none.
    package func reservation(_ id: String, in scope: Scope) async throws(InventoryError) -> Reservation? {
        try await storage {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.reservation(id)).flatMap(
                Reservation.init(entity:))
        }
    }

    /// Ends a reservation: its range becomes free space (not stock; Replenish or a carve uses it), with its
    /// event. `action` says why (`unreserve` by an operator, `reservation-expired` by the Manager).
    package func endReservation(_ reservation: Reservation, in scope: Scope, action: AuditAction, now: Date)
        async throws(InventoryError) -> WriteOutcome?
    {
        let rowKey = RowKeys.network(reservation.prefix)
        guard let row = try await network(rowKey, in: scope), row.state == .reserved else {
            // Only the reservation row is left (a crash between writes cannot leave this, but a hand edit can).
            _ = try? await storage {
                try await submit([
                    .delete(
                        partitionKey: scope.partitionKey, rowKey: RowKeys.reservation(reservation.id), ifMatch: .any)
                ])
            }
            return nil
        }
        let event = AuditEvent(
            action: .known(action), actor: AuditContext.current?.actor ?? actor, cidr: reservation.prefix.description,
            leaseId: "", sessionId: "",
            before: .known(.reserved), after: nil,
            detail: "reservation \(reservation.id): \(reservation.reason)", process: actor)
        do {
            _ = try await submit([
                row.deleted(partitionKey: scope.partitionKey),
                .delete(partitionKey: scope.partitionKey, rowKey: RowKeys.reservation(reservation.id), ifMatch: .any),
                .insert(event.entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))),
                Self.historyEnd(reservation.prefix, action: action, scope: scope, now: now),
            ])
            return .done(row)
        } catch {
            switch WriteFailure(error) {
            case .conflict: return .changed
            case .unknown: return .outcomeUnknown
            case .failed(let failure): throw failure
            }
        }
    }
}

extension Inventory {
    /// Overlapping rows read one by one before every network row is read instead.
    static let overlapPointReads = 16

    /// The range a reservation takes (`prefix`, or the smallest free block of `length` outside every network row
    /// and excluded range; a block of stock is never split for a size-only request) and every network row
    /// overlapping it; nil when no block of `length` is free.
    func rangeToReserve(
        _ prefix: IPPrefix?, length: Int, in space: ScopeSupernets, head: Head?, occupied: OccupiedSpace?
    ) async throws(InventoryError) -> (IPPrefix, [Stored<NetworkRow>])? {
        let scope = space.scope
        guard let occupied else {
            let rows = try await networks(in: scope)
            guard
                let chosen = prefix
                    ?? FreeSpace.smallestFit(
                        length: length, in: space.supernets, occupied: rows.map(\.prefix) + space.exclude)
            else { return nil }
            return (chosen, rows.filter { $0.prefix.overlaps(chosen) })
        }
        var chosen = prefix
        if chosen == nil {
            chosen = try await occupied.withPrefixes(in: scope, head: head, inventory: self) { sorted in
                FreeSpace.smallestFit(length: length, in: space.supernets, occupied: sorted + space.exclude)
            }.result
        }
        guard let chosen else { return nil }
        return (chosen, try await rows(overlapping: [chosen], in: scope, head: head, occupied: occupied))
    }

    /// Every network row of `scope` overlapping one of `ranges`, as of `head` (read first). With `occupied` (kept
    /// current by the head's log, which names every row written up to the head, and rows since deleted, which read
    /// as nothing), only those rows are read, one point read each, or every network row when more than
    /// `overlapPointReads` do; without it, every network row. A transaction under the head's ETag is refused if a
    /// row was added meanwhile.
    func rows(overlapping ranges: [IPPrefix], in scope: Scope, head: Head?, occupied: OccupiedSpace?)
        async throws(InventoryError) -> [Stored<NetworkRow>]
    {
        func overlapsOne(_ prefix: IPPrefix) -> Bool { ranges.contains { $0.overlaps(prefix) } }
        guard let occupied else { return try await networks(in: scope).filter { overlapsOne($0.prefix) } }
        let named = try await occupied.withPrefixes(in: scope, head: head, inventory: self) { sorted in
            sorted.filter { prefix in ranges.contains { $0.overlaps(prefix) } }
        }.result
        guard named.count <= Self.overlapPointReads else {
            return try await networks(in: scope).filter { overlapsOne($0.prefix) }
        }
        var rows: [Stored<NetworkRow>] = []
        for prefix in named {
            if let row = try await network(RowKeys.network(prefix), in: scope) { rows.append(row) }
        }
        return rows
    }
}
