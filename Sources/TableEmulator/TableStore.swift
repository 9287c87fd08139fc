import AzureCore
package import AzureTables
package import Foundation

/// One write inside a transaction (or alone).
package enum EntityWrite: Sendable {
    case insert(TableEntity)
    /// `condition == nil` is an upsert (Insert-or-Replace / Insert-or-Merge).
    case replace(TableEntity, condition: ETagCondition?)
    case merge(TableEntity, condition: ETagCondition?)
    case delete(partitionKey: String, rowKey: String, condition: ETagCondition)

    var keys: (String, String) {
        switch self {
        case .insert(let e), .replace(let e, _), .merge(let e, _): return (e.partitionKey, e.rowKey)
        case .delete(let pk, let rk, _): return (pk, rk)
        }
    }
}

/// A stored entity version.
package struct StoredEntity: Sendable {
    package var properties: [String: TableValue]
    package var timestamp: Date
    package var etag: String { Self.etag(for: timestamp) }

    /// Azure's weak ETag: `W/"datetime'2026-11-25T08%3A47%3A26.1615202Z'"`.
    static func etag(for timestamp: Date) -> String {
        "W/\"datetime'"
            + EdmDateTime.format(timestamp).split(separator: ":", omittingEmptySubsequences: false).joined(
                separator: "%3A") + "'\""
    }
}

/// A page of query results.
package struct StoreQueryPage: Sendable {
    package var rows: [(partitionKey: String, rowKey: String, entity: StoredEntity)]
    /// Keys of the row where the next page starts.
    package var next: (partitionKey: String, rowKey: String)?
}

/// All tables of one account, in memory, with every acknowledged change in a durable log.
///
/// An actor: writes are serialised, and a transaction is validated in full before anything is
/// applied or logged, so it is atomic.
package actor TableStore {
    struct Partition {
        var rows: [String: StoredEntity] = [:]
        var sortedKeys = SortedKeys()
    }

    final class Table {
        let name: String
        var partitions: [String: Partition] = [:]
        var sortedPartitions: [String] = []
        init(name: String) { self.name = name }
    }

    private var tables: [String: Table] = [:]
    private var lastTimestamp = Date(timeIntervalSince1970: 0)
    private let log: PersistenceLog?
    /// Rows examined per query page at most, like the service's time limit: a page may come back short or empty with a continuation.
    package let scanLimit: Int

    /// - Parameter location: folder for the durable log; `nil` keeps everything in memory.
    package init(location: String?, syncEveryWrite: Bool = false, scanLimit: Int = 50_000) throws {
        self.scanLimit = scanLimit
        if let location {
            let log = try PersistenceLog(directory: location, syncEveryWrite: syncEveryWrite)
            var restored: [String: Table] = [:]
            var latest = Date(timeIntervalSince1970: 0)
            try log.replay { record in Self.apply(record: record, to: &restored, latest: &latest) }
            self.tables = restored
            self.lastTimestamp = latest
            try log.compact(snapshot: Self.snapshotRecords(restored))
            self.log = log
        } else {
            self.log = nil
        }
    }

    // MARK: Tables

    package func createTable(_ name: String) throws {
        let key = name.lowercased()
        guard tables[key] == nil else { throw TableServiceError.tableExists }
        try log?.append(.object([("op", .string("createTable")), ("name", .string(name))]))
        tables[key] = Table(name: name)
    }

    package func deleteTable(_ name: String) throws {
        let key = name.lowercased()
        guard tables[key] != nil else {
            throw TableServiceError(
                status: 404, code: "ResourceNotFound", message: "The specified resource does not exist.")
        }
        try log?.append(.object([("op", .string("deleteTable")), ("name", .string(name))]))
        tables[key] = nil
    }

    /// Table names in name order.
    package func tableNames() -> [String] {
        tables.values.map(\.name).sorted { KeyOrder.less($0, $1) }
    }

    package func tableExists(_ name: String) -> Bool { tables[name.lowercased()] != nil }

    // MARK: Entities

    package func get(table name: String, partitionKey: String, rowKey: String) throws -> StoredEntity {
        guard let table = tables[name.lowercased()] else { throw TableServiceError.tableNotFound }
        guard let entity = table.partitions[partitionKey]?.rows[rowKey] else { throw TableServiceError.entityNotFound }
        return entity
    }

    /// Applies `writes` atomically: either all succeed (returning each new ETag, nil for deletes), or
    /// nothing changes and the error names the failing index.
    package func apply(table name: String, writes: [EntityWrite]) throws -> [String?] {
        guard let table = tables[name.lowercased()] else { throw TableServiceError.tableNotFound }
        // Stage every write against the current state plus earlier staged writes.
        var staged: [String: StoredEntity?] = [:]
        var results: [String?] = []
        var order: [(String, String)] = []
        func current(_ pk: String, _ rk: String) -> StoredEntity? {
            if let value = staged[pk + "\u{0}" + rk] { return value }
            return table.partitions[pk]?.rows[rk]
        }
        func check(_ condition: ETagCondition?, against existing: StoredEntity?) throws {
            switch condition {
            case nil: return
            case .any?: if existing == nil { throw TableServiceError.entityNotFound }
            case .etag(let tag)?:
                guard let existing else { throw TableServiceError.entityNotFound }
                if existing.etag != tag { throw TableServiceError.conditionFailed }
            }
        }
        for (index, write) in writes.enumerated() {
            do {
                let (pk, rk) = write.keys
                let existing = current(pk, rk)
                let newValue: StoredEntity?
                switch write {
                case .insert(let entity):
                    if existing != nil { throw TableServiceError.entityExists }
                    newValue = StoredEntity(properties: entity.properties, timestamp: nextTimestamp())
                case .replace(let entity, let condition):
                    try check(condition, against: existing)
                    newValue = StoredEntity(properties: entity.properties, timestamp: nextTimestamp())
                case .merge(let entity, let condition):
                    try check(condition, against: existing)
                    var properties = existing?.properties ?? [:]
                    properties.merge(entity.properties) { _, new in new }
                    newValue = StoredEntity(properties: properties, timestamp: nextTimestamp())
                case .delete(_, _, let condition):
                    try check(condition, against: existing)
                    newValue = nil
                }
                try Self.validateSize(newValue)
                staged[pk + "\u{0}" + rk] = .some(newValue)
                order.append((pk, rk))
                results.append(newValue?.etag)
            } catch var error as TableServiceError {
                error.operationIndex = index
                throw error
            }
        }
        try log?.append(Self.writeRecord(table: table.name, order: order, staged: staged))
        for (pk, rk) in order {
            Self.store(staged[pk + "\u{0}" + rk]!, partitionKey: pk, rowKey: rk, in: table)
        }
        return results
    }

    /// One page of rows matching `filter`, in key order, starting at `start` (inclusive).
    package func query(
        table name: String, filter: ODataFilter?, top: Int, start: (partitionKey: String, rowKey: String)?
    ) throws -> StoreQueryPage {
        guard let table = tables[name.lowercased()] else { throw TableServiceError.tableNotFound }
        let bounds = filter?.keyBounds ?? KeyBounds()
        var page = StoreQueryPage(rows: [], next: nil)
        var scanned = 0
        var partitionIndex = Self.lowerBound(
            table.sortedPartitions, Self.laterKey(start?.partitionKey, bounds.partitionLow))
        while partitionIndex < table.sortedPartitions.count {
            let pk = table.sortedPartitions[partitionIndex]
            if let high = bounds.partitionHigh, KeyOrder.less(high, pk) { break }
            let partition = table.partitions[pk]!
            var rowLow = bounds.rowLow
            if let start, start.partitionKey == pk { rowLow = Self.laterKey(rowLow, start.rowKey) }
            let keys = partition.sortedKeys
            var position = rowLow.map { keys.lowerBound($0) } ?? keys.startPosition
            while position < keys.endPosition {
                let rk = keys[position]
                if let high = bounds.rowHigh, KeyOrder.less(high, rk) { break }
                if page.rows.count >= top || scanned >= scanLimit {
                    page.next = (pk, rk)
                    return page
                }
                scanned += 1
                let entity = partition.rows[rk]!
                let matches =
                    filter?.matches { property in
                        switch property {
                        case "PartitionKey": return .string(pk)
                        case "RowKey": return .string(rk)
                        case "Timestamp": return .dateTime(entity.timestamp)
                        default: return entity.properties[property]
                        }
                    } ?? true
                if matches { page.rows.append((pk, rk, entity)) }
                position = keys.position(after: position)
            }
            partitionIndex += 1
        }
        return page
    }

    /// Every row of every table (for tests that check invariants over the final state).
    package func rowCount(table name: String) -> Int {
        tables[name.lowercased()]?.partitions.values.reduce(0) { $0 + $1.rows.count } ?? 0
    }

    // MARK: Internals

    private func nextTimestamp() -> Date {
        let now = Date()
        let minimum = lastTimestamp.addingTimeInterval(1e-6)
        lastTimestamp = now > minimum ? now : minimum
        return lastTimestamp
    }

    private static func laterKey(_ a: String?, _ b: String?) -> String? {
        guard let a else { return b }
        guard let b else { return a }
        return KeyOrder.less(a, b) ? b : a
    }

    static func lowerBound(_ keys: [String], _ key: String?) -> Int {
        guard let key else { return 0 }
        return SortedKeys.lowerBound(keys, key)
    }

    static func validateSize(_ entity: StoredEntity?) throws {
        guard let entity else { return }
        if entity.properties.count > 252 {
            throw TableServiceError(
                status: 400, code: "TooManyProperties", message: "The entity contains more properties than allowed.")
        }
        var total = 0
        for (name, value) in entity.properties {
            if name.count > 255 {
                throw TableServiceError(
                    status: 400, code: "PropertyNameTooLong",
                    message: "The property name exceeds the maximum allowed length.")
            }
            switch value {
            case .string(let s):
                if s.utf16.count > 32 * 1024 {
                    throw TableServiceError(
                        status: 400, code: "PropertyValueTooLarge",
                        message: "The property value exceeds the maximum allowed size (64KB).")
                }
                total += s.utf16.count * 2
            case .binary(let b):
                if b.count > 64 * 1024 {
                    throw TableServiceError(
                        status: 400, code: "PropertyValueTooLarge",
                        message: "The property value exceeds the maximum allowed size (64KB).")
                }
                total += b.count
            default: total += 8
            }
            total += name.utf16.count * 2
        }
        if total > 1024 * 1024 {
            throw TableServiceError(
                status: 400, code: "EntityTooLarge",
                message: "The entity is larger than the maximum allowed size (1MB).")
        }
    }

    private static func store(_ value: StoredEntity?, partitionKey pk: String, rowKey rk: String, in table: Table) {
        if let value {
            if table.partitions[pk] == nil {
                table.partitions[pk] = Partition()
                let at = lowerBound(table.sortedPartitions, pk)
                table.sortedPartitions.insert(pk, at: at)
            }
            if table.partitions[pk]!.rows.updateValue(value, forKey: rk) == nil {
                table.partitions[pk]!.sortedKeys.insert(rk)
            }
        } else if table.partitions[pk]?.rows.removeValue(forKey: rk) != nil {
            table.partitions[pk]!.sortedKeys.remove(rk)
            if table.partitions[pk]!.rows.isEmpty {
                table.partitions[pk] = nil
                table.sortedPartitions.remove(at: lowerBound(table.sortedPartitions, pk))
            }
        }
    }

    // MARK: Log records

    private static func writeRecord(table: String, order: [(String, String)], staged: [String: StoredEntity?])
        -> JSONValue
    {
        var items: [JSONValue] = []
        for (pk, rk) in order {
            let value = staged[pk + "\u{0}" + rk]!
            var members: [(String, JSONValue)] = [("pk", .string(pk)), ("rk", .string(rk))]
            if let value {
                members.append(("ts", .string(EdmDateTime.format(value.timestamp))))
                members.append(
                    (
                        "props",
                        EntityCodec.encode(
                            TableEntity(partitionKey: pk, rowKey: rk, properties: value.properties), includeKeys: false)
                    ))
            }
            items.append(.object(members))
        }
        return .object([("op", .string("write")), ("table", .string(table)), ("rows", .array(items))])
    }

    private static func snapshotRecords(_ tables: [String: Table]) -> [JSONValue] {
        var records: [JSONValue] = []
        for table in tables.values {
            records.append(.object([("op", .string("createTable")), ("name", .string(table.name))]))
            for pk in table.sortedPartitions {
                let partition = table.partitions[pk]!
                var rows: [JSONValue] = []
                for rk in partition.sortedKeys {
                    let value = partition.rows[rk]!
                    rows.append(
                        .object([
                            ("pk", .string(pk)), ("rk", .string(rk)),
                            ("ts", .string(EdmDateTime.format(value.timestamp))),
                            (
                                "props",
                                EntityCodec.encode(
                                    TableEntity(partitionKey: pk, rowKey: rk, properties: value.properties),
                                    includeKeys: false)
                            ),
                        ]))
                    if rows.count == 1000 {
                        records.append(
                            .object([("op", .string("write")), ("table", .string(table.name)), ("rows", .array(rows))]))
                        rows.removeAll()
                    }
                }
                if !rows.isEmpty {
                    records.append(
                        .object([("op", .string("write")), ("table", .string(table.name)), ("rows", .array(rows))]))
                }
            }
        }
        return records
    }

    private static func apply(record: JSONValue, to tables: inout [String: Table], latest: inout Date) {
        switch record["op"]?.stringValue {
        case "createTable":
            if let name = record["name"]?.stringValue { tables[name.lowercased()] = Table(name: name) }
        case "deleteTable":
            if let name = record["name"]?.stringValue { tables[name.lowercased()] = nil }
        case "write":
            guard let name = record["table"]?.stringValue, let table = tables[name.lowercased()] else { return }
            for row in record["rows"]?.arrayValue ?? [] {
                guard let pk = row["pk"]?.stringValue, let rk = row["rk"]?.stringValue else { continue }
                if let ts = row["ts"]?.stringValue.flatMap(EdmDateTime.parse), let props = row["props"],
                    let entity = try? EntityCodec.decode(props, requireKeys: false)
                {
                    if ts > latest { latest = ts }
                    store(
                        StoredEntity(properties: entity.properties, timestamp: ts), partitionKey: pk, rowKey: rk,
                        in: table)
                } else {
                    store(nil, partitionKey: pk, rowKey: rk, in: table)
                }
            }
        default: break
        }
    }
}
