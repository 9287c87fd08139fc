internal import AzureTables
package import Foundation

/// A signed-in operator console session, kept in the table so that every Vendor sees a sign-out at once
/// (`console` partition, `session_{SHA-256 of the session id}`: never a scope's partition, those hold `_`, so
/// the invariant checker and the scopes' reads never meet it).
///
/// The Inventory neither reads nor makes `sealed`: the console seals who signed in and with what credential
/// (a key's digest, a token's issuer and app roles) under its own secret, so the table names nobody in clear
/// and holds nothing a reader could sign in with.
package struct ConsoleSessionRecord: Sendable, Equatable {
    /// Hex SHA-256 of the session id the cookie carries (the id itself is never stored).
    package let idDigest: String
    package let sealed: String
    package let createdAt: Date
    /// The absolute end, whatever the activity.
    package let expiresAt: Date
    /// The last request that used it (moved at most once per `touch` interval): the idle expiry counts from here.
    package var lastSeenAt: Date

    package init(idDigest: String, sealed: String, createdAt: Date, expiresAt: Date, lastSeenAt: Date) {
        self.idDigest = idDigest
        self.sealed = sealed
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastSeenAt = lastSeenAt
    }

    func entity() -> TableEntity {
        TableEntity(
            partitionKey: RowKeys.consolePartition, rowKey: RowKeys.consoleSession(idDigest),
            properties: [
                "Sealed": .string(sealed), "CreatedAt": .dateTime(createdAt), "ExpiresAt": .dateTime(expiresAt),
                "LastSeenAt": .dateTime(lastSeenAt),
            ])
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.consoleSessionPrefix), let sealed = entity["Sealed"]?.stringValue,
            let expiresAt = entity["ExpiresAt"]?.dateValue, let lastSeenAt = entity["LastSeenAt"]?.dateValue
        else { return nil }
        self.init(
            idDigest: String(entity.rowKey.dropFirst(RowKeys.consoleSessionPrefix.count)), sealed: sealed,
            createdAt: entity["CreatedAt"]?.dateValue ?? .distantPast, expiresAt: expiresAt, lastSeenAt: lastSeenAt)
    }
}

extension RowKeys {
    /// The partition of console sessions (never a scope's: those always hold `_`).
    package static let consolePartition = "console"
    package static let consoleSessionPrefix = "session_"
    package static func consoleSession(_ idDigest: String) -> String { consoleSessionPrefix + idDigest }
}

extension Inventory {
    /// Stores a new session (its digest is fresh randomness: an existing row is an error, not overwritten).
    package func insert(_ session: ConsoleSessionRecord) async throws(InventoryError) {
        _ = try await storage { try await table.insert(session.entity()) }
    }

    /// The session whose id has this digest, nil when there is none (signed out, purged, never made).
    package func consoleSession(_ idDigest: String) async throws(InventoryError) -> ConsoleSessionRecord? {
        try await storage {
            try await table.get(partitionKey: RowKeys.consolePartition, rowKey: RowKeys.consoleSession(idDigest))
                .flatMap(ConsoleSessionRecord.init(entity:))
        }
    }

    /// Moves a session's `LastSeenAt` to `date`; false when the row is gone (signed out meanwhile). It never
    /// makes the row again: the write is `If-Match: *`, so a request racing a sign-out cannot revive it.
    package func touchConsoleSession(_ idDigest: String, at date: Date) async throws(InventoryError) -> Bool {
        let entity = TableEntity(
            partitionKey: RowKeys.consolePartition, rowKey: RowKeys.consoleSession(idDigest),
            properties: ["LastSeenAt": .dateTime(date)])
        do {
            _ = try await table.merge(entity, ifMatch: .any)
            return true
        } catch {
            switch WriteFailure(error) {
            case .conflict: return false
            case .unknown: return true // the row was there a moment ago; the next request reads again
            case .failed(let failure): throw failure
            }
        }
    }

    /// Deletes a session (sign-out, or found ended); nothing when it is already gone.
    package func deleteConsoleSession(_ idDigest: String) async throws(InventoryError) {
        do {
            try await table.delete(partitionKey: RowKeys.consolePartition, rowKey: RowKeys.consoleSession(idDigest))
        } catch {
            if case .failed(let failure) = WriteFailure(error) { throw failure }
        }
    }

    /// Deletes up to `limit` sessions that ended: past their absolute expiry (before `now`), or unused since
    /// before `idleSince`. Returns how many it deleted. A session touched meanwhile (its ETag moved) is kept.
    @discardableResult
    package func purgeConsoleSessions(now: Date, idleSince: Date, limit: Int) async throws(InventoryError) -> Int {
        let filter =
            "PartitionKey eq '\(RowKeys.consolePartition)' and RowKey ge '\(RowKeys.consoleSessionPrefix)' and RowKey lt 'session`' and "
            + "(ExpiresAt lt datetime'\(EdmDateTime.format(now))' or LastSeenAt lt datetime'\(EdmDateTime.format(idleSince))')"
        let ended = try await storage {
            try await table.query(filter: filter, select: ["PartitionKey", "RowKey"], top: limit).page(after: nil)
                .entities
        }
        var deleted = 0
        for entity in ended.prefix(limit) {
            do {
                try await table.delete(
                    partitionKey: entity.partitionKey, rowKey: entity.rowKey,
                    ifMatch: entity.etag.map(ETagCondition.etag) ?? .any)
                deleted += 1
            } catch {
                if case .failed(let failure) = WriteFailure(error) { throw failure }
            }
        }
        return deleted
    }
}
