internal import AzureCore
package import AzureTables
package import Foundation
internal import IPAMCore

/// A lease on one row of the locks table (`ipamLocks`) that lets one Manager at a time run the jobs.
///
/// The locks table is shared by every inventory table of a storage account, so the row is named after the
/// inventory table (`managerName(forTable:)`): Managers of one inventory exclude each other, Managers of two
/// inventories in one account do not.
///
/// The row's ETag is the lock: taking, renewing and releasing it are conditional writes. A holder
/// that crashes simply stops renewing; once `ExpiresAt` passes, another Manager may take it.
package struct SingletonLease: Sendable {
    let table: TableClient
    package let name: String
    package let owner: String
    package let duration: Duration
    private let now: @Sendable () -> Date

    package init(
        table: TableClient, name: String = "manager", owner: String, duration: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.table = table
        self.name = name
        self.owner = owner
        self.duration = duration
        self.now = now
    }

    /// Proof of holding the lease: the ETag of our last write.
    package struct Held: Sendable, Equatable {
        package let etag: String
        package let expiresAt: Date
    }

    /// Who holds the lease instead of us.
    package struct HeldElsewhere: Error, Sendable, CustomStringConvertible {
        package let owner: String
        package let expiresAt: Date?
        package init(owner: String, expiresAt: Date?) {
            self.owner = owner
            self.expiresAt = expiresAt
        }
        package var description: String {
            "the lease is held by \(owner) until \(expiresAt.map { "\($0)" } ?? "unknown")"
        }
    }

    private var entityKeys: (String, String) { ("lock", name) }

    private func entity(expiresAt: Date) -> TableEntity {
        TableEntity(
            partitionKey: entityKeys.0, rowKey: entityKeys.1,
            properties: [
                "Owner": .string(owner), "ExpiresAt": .dateTime(expiresAt), "AcquiredAt": .dateTime(now()),
            ])
    }

    /// Takes the lease if it is free, expired, or already ours. Throws `HeldElsewhere` otherwise.
    package func acquire() async throws -> Held {
        do { return try await take() } catch let error as HeldElsewhere { throw error } catch {
            throw InventoryError(error)
        }
    }

    private func take() async throws -> Held {
        let expiresAt = now().addingTimeInterval(duration.seconds)
        guard let current = try await table.get(partitionKey: entityKeys.0, rowKey: entityKeys.1) else {
            do {
                return Held(etag: try await table.insert(entity(expiresAt: expiresAt)), expiresAt: expiresAt)
            } catch let error as AzureError where error.isConflict {
                throw HeldElsewhere(owner: "another manager (it took the lease first)", expiresAt: nil)
            }
        }
        let holder = current["Owner"]?.stringValue ?? ""
        let until = current["ExpiresAt"]?.dateValue ?? .distantPast
        guard holder == owner || until <= now() else { throw HeldElsewhere(owner: holder, expiresAt: until) }
        guard let etag = current.etag else {
            throw AzureError.invalidResponse("the lease row was read without an ETag")
        }
        do {
            return Held(
                etag: try await table.replace(entity(expiresAt: expiresAt), ifMatch: .etag(etag)),
                expiresAt: expiresAt)
        } catch let error as AzureError where error.isPreconditionFailed || error.isNotFound {
            throw HeldElsewhere(owner: "another manager (it took the lease first)", expiresAt: nil)
        }
    }

    /// Extends a lease we hold; throws `HeldElsewhere` when it was lost meanwhile.
    package func renew(_ held: Held) async throws -> Held {
        do { return try await extend(held) } catch let error as HeldElsewhere { throw error } catch {
            throw InventoryError(error)
        }
    }

    private func extend(_ held: Held) async throws -> Held {
        let expiresAt = now().addingTimeInterval(duration.seconds)
        do {
            return Held(
                etag: try await table.replace(entity(expiresAt: expiresAt), ifMatch: .etag(held.etag)),
                expiresAt: expiresAt)
        } catch let error as AzureError where error.isPreconditionFailed || error.isNotFound {
            throw HeldElsewhere(owner: "another manager (the lease expired and was taken)", expiresAt: nil)
        }
    }

    /// The time as this lease sees it (its injected clock).
    package var currentDate: Date { now() }

    /// True once `held` has run out (another Manager may have taken the lease since).
    package func hasExpired(_ held: Held) -> Bool { held.expiresAt <= now() }

    /// Gives the lease back (only if it is still ours).
    package func release(_ held: Held) async throws(InventoryError) {
        do {
            try await table.delete(partitionKey: entityKeys.0, rowKey: entityKeys.1, ifMatch: .etag(held.etag))
        } catch let error as AzureError where error.isPreconditionFailed || error.isNotFound {
            // Someone else holds it now: nothing of ours to release.
        } catch {
            throw InventoryError(error)
        }
    }
}

extension SingletonLease {
    /// The row key of the Manager's lease for inventory table `tableName`: `manager` for the default table
    /// (the row every Manager used before the lease was per table, so a deployment on the default table keeps
    /// its row through an upgrade), `manager-{table}` for any other. Table names are case-insensitive in
    /// Azure, so the name is lower-cased: `networkCidr` and `NETWORKCIDR` are one inventory and one lease.
    package static func managerName(forTable tableName: String) -> String {
        let table = tableName.lowercased()
        return table == IPAMConfiguration.defaultTableName.lowercased() ? "manager" : "manager-" + table
    }
}

extension Inventory {
    /// The singleton lease `name` in the locks table, held as `owner`; by default the Manager's lease of this
    /// inventory table (`SingletonLease.managerName(forTable:)`).
    package func singletonLease(
        name: String? = nil, owner: String, duration: Duration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) -> SingletonLease {
        SingletonLease(
            table: locks, name: name ?? SingletonLease.managerName(forTable: table.name), owner: owner,
            duration: duration, now: now)
    }
}
