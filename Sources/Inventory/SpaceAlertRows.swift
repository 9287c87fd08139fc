internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// Whether an area's space is low, as the Manager last recorded it (`alert_{pool or -}_{version}` in the scope's
/// partition): the edge-triggered low-space alerts remember their state here, so a crossing writes one event
/// whichever Manager sees it, however often it is seen (docs/Design.md, "Low-space alerts").
package struct SpaceAlertState: Sendable, Equatable {
    package var pool: String?
    package var version: IPVersion
    package var low: Bool
    /// When it last went low or recovered.
    package var since: Date
    /// Why it is low (the thresholds crossed), empty when it is not.
    package var reasons: String

    package init(pool: String?, version: IPVersion, low: Bool, since: Date, reasons: String) {
        self.pool = pool
        self.version = version
        self.low = low
        self.since = since
        self.reasons = reasons
    }

    var rowKey: String { RowKeys.spaceAlert(pool: pool, version: version) }

    func entity(partitionKey: String) -> TableEntity {
        TableEntity(
            partitionKey: partitionKey, rowKey: rowKey,
            properties: [
                "Pool": .string(pool ?? ""), "IPVersion": .int32(Int32(version.rawValue)), "Low": .bool(low),
                "Since": .dateTime(since), "Reasons": .string(String(reasons.prefix(1_000))),
            ])
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.spaceAlertPrefix), let low = entity["Low"]?.boolValue,
            let raw = entity["IPVersion"]?.int64Value, let version = IPVersion(rawValue: Int(raw))
        else { return nil }
        let pool = entity["Pool"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            pool: pool, version: version, low: low, since: entity["Since"]?.dateValue ?? .distantPast,
            reasons: entity["Reasons"]?.stringValue ?? "")
    }
}

extension RowKeys {
    package static let spaceAlertPrefix = "alert_"
    /// `alert_{pool, or - for the scope's own space}_{version}`.
    package static func spaceAlert(pool: String?, version: IPVersion) -> String {
        spaceAlertPrefix + (pool ?? "-") + "_\(version.rawValue)"
    }
}

extension Inventory {
    /// Every area's recorded alert state in `scope` (one key-range read; a handful of rows), by row key.
    package func spaceAlerts(in scope: Scope) async throws(InventoryError) -> [String: Stored<SpaceAlertState>] {
        let prefix = RowKeys.spaceAlertPrefix
        let filter =
            "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(prefix)' and RowKey lt 'alert`'"
        let entities = try await storage { try await table.queryAll(filter: filter) }
        var states: [String: Stored<SpaceAlertState>] = [:]
        for entity in entities {
            if let stored = Stored(entity: entity, decode: SpaceAlertState.init(entity:)) {
                states[entity.rowKey] = stored
            }
        }
        return states
    }

    /// Records that an area went low or recovered, with its `space-low` or `space-recovered` event, in one
    /// transaction: the state row replaced `If-Match` the version read (`previous`), or inserted when there was
    /// none. Returns false, writing nothing, when another writer changed (or made) the row since: it recorded this
    /// crossing (or a later one) itself.
    package func recordSpaceAlert(
        _ state: SpaceAlertState, over previous: Stored<SpaceAlertState>?, cidr: String, in scope: Scope, now: Date
    ) async throws(InventoryError) -> Bool {
        let row = state.entity(partitionKey: scope.partitionKey)
        let write: TableTransactionAction =
            previous.map { .replace(row, ifMatch: $0.ifMatch) } ?? .insert(row)
        let event = AuditEvent(
            action: .known(state.low ? .spaceLow : .spaceRecovered), actor: actor, cidr: cidr, leaseId: "",
            sessionId: "", before: nil, after: nil, detail: state.reasons, process: actor)
        do {
            _ = try await submit([
                write, .insert(event.entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))),
            ])
            return true
        } catch {
            switch WriteFailure(error) {
            case .conflict: return false
            case .unknown:
                // The answer was lost: the row tells whether it committed.
                let current = try await spaceAlerts(in: scope)[state.rowKey]
                return current?.value == state
            case .failed(let failure): throw failure
            }
        }
    }
}
