internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// Which leases a listing returns.
package struct LeaseFilter: Sendable, Equatable {
    /// Only rows in one of these states (nil: any state a lease can be in).
    package var states: Set<NetworkState>?
    package var requester: String?
    /// Only blocks inside this prefix.
    package var within: IPPrefix?
    /// Only leases asked with this tag (and, when given, this value).
    package var tag: (key: String, value: String?)?
    /// Only blocks of this pool (its `Pool` column); nil: any block, of a pool or of the scope's own space.
    package var pool: String?

    package init(
        states: Set<NetworkState>? = nil, requester: String? = nil, within: IPPrefix? = nil,
        tag: (key: String, value: String?)? = nil, pool: String? = nil
    ) {
        self.states = states
        self.requester = requester
        self.within = within
        self.tag = tag
        self.pool = pool
    }

    package static func == (a: LeaseFilter, b: LeaseFilter) -> Bool {
        a.states == b.states && a.requester == b.requester && a.within == b.within && a.tag?.key == b.tag?.key
            && a.tag?.value == b.tag?.value && a.pool == b.pool
    }

    /// Whether `row` passes the filters the table query cannot express (tags are stored as one JSON text).
    func admits(_ row: NetworkRow) -> Bool {
        guard let tag else { return true }
        guard let value = row.tags[tag.key] else { return false }
        return tag.value.map { $0 == value } ?? true
    }
}

/// One page of a listing: rows in address order, and where the next page starts (nil: no more).
package struct LeasePage: Sendable {
    package let rows: [NetworkRow]
    /// The row key to continue after, nil when the scope has no more matching rows.
    package let resumeAfter: String?
}

extension Inventory {
    /// Up to `limit` network rows of `scope` that carry a lease and match `filter`, in address order,
    /// starting after the row key `after` (a key-range query: `within` narrows the range itself).
    package func leases(in scope: Scope, matching filter: LeaseFilter, limit: Int, after: String? = nil)
        async throws(InventoryError) -> LeasePage
    {
        var conditions = ["PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))'"]
        var lower = RowKeys.networkPrefix
        var upper = "net`"
        if let within = filter.within {
            lower = RowKeys.network(within)
            upper = RowKeys.network(IPPrefix(address: within.last, length: within.version.bitWidth)!) + "~"
        }
        if let after, after >= lower {
            conditions.append("RowKey gt '\(TableQuery.quoted(after))'")
        } else {
            conditions.append("RowKey ge '\(TableQuery.quoted(lower))'")
        }
        conditions.append("RowKey lt '\(TableQuery.quoted(upper))'")
        conditions.append("LeaseId ne ''")
        if let states = filter.states, !states.isEmpty {
            conditions.append("(" + states.map { "State eq '\($0.rawValue)'" }.sorted().joined(separator: " or ") + ")")
        }
        if let requester = filter.requester { conditions.append("Requester eq '\(TableQuery.quoted(requester))'") }
        if let pool = filter.pool { conditions.append("Pool eq '\(TableQuery.quoted(pool))'") }
        let text = conditions.joined(separator: " and ")
        let (rows, resume) = try await page(text, limit: limit) { (entity: TableEntity) -> NetworkRow? in
            // A dual-stack lease is listed once, by its IPv4 row, unless `within` asks for IPv6 space.
            guard let row = NetworkRow(entity: entity), row.leaseId != nil,
                filter.within.map({ $0.contains(row.prefix) }) ?? !row.isSecondHalf
            else { return nil }
            return filter.admits(row) ? row : nil
        }
        return LeasePage(rows: rows, resumeAfter: resume)
    }

    /// Up to `limit` items of a query in key order, following its pages: `read` makes an item of an entity
    /// (nil: not one). With more items left, also the row key to resume after (the last one looked at
    /// before the item that did not fit); nil when the query is done.
    func page<T>(_ filter: String, limit: Int, read: (TableEntity) -> T?) async throws(InventoryError) -> ([T], String?)
    {
        try await storage {
            var items: [T] = []
            var continuation: TableContinuation? = nil
            var lastKey: String? = nil
            let query = table.query(filter: filter, top: min(1000, limit + 1))
            repeat {
                let page = try await query.page(after: continuation)
                for entity in page.entities {
                    guard let item = read(entity) else {
                        lastKey = entity.rowKey
                        continue
                    }
                    if items.count == limit { return (items, lastKey) }
                    items.append(item)
                    lastKey = entity.rowKey
                }
                continuation = page.continuation
            } while continuation != nil
            return (items, nil)
        }
    }

    /// The most recent audit event about lease `id` in `scope` (its action and the state it left), nil
    /// when the lease never existed there. For a lease whose block went back to stock: its row no longer
    /// carries the id, its events still do.
    package func lastEvent(ofLease id: String, in scope: Scope) async throws(InventoryError) -> AuditEvent? {
        let filter =
            "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(RowKeys.eventPrefix)' and RowKey lt 'event`' and LeaseId eq '\(TableQuery.quoted(id.lowercased()))'"
        return try await storage {
            // Event keys sort newest first: the first match is the latest. A page may come back empty with a
            // continuation (the service stops scanning after a while), so follow them.
            let query = table.query(filter: filter, top: 1)
            var continuation: TableContinuation? = nil
            repeat {
                let page = try await query.page(after: continuation)
                if let event = page.entities.first.flatMap(AuditEvent.init(entity:)) { return event }
                continuation = page.continuation
            } while continuation != nil
            return nil
        }
    }
}

/// Which audit events a listing returns.
package struct EventFilter: Sendable, Equatable {
    /// Only events at or after / before this moment.
    package var since: Date?
    package var until: Date?
    package var actions: Set<String>?
    package var leaseId: String?
    package var actor: String?

    package init(
        since: Date? = nil, until: Date? = nil, actions: Set<String>? = nil, leaseId: String? = nil,
        actor: String? = nil
    ) {
        self.since = since
        self.until = until
        self.actions = actions
        self.leaseId = leaseId
        self.actor = actor
    }
}

/// One page of events: newest first, and where the next page starts (nil: no more).
package struct EventPage: Sendable {
    package let events: [AuditEvent]
    package let resumeAfter: String?
}

extension Inventory {
    /// Up to `limit` audit events of `scope` matching `filter`, newest first, starting after the event row key
    /// `after`. The time bounds narrow the key range itself (keys are inverted timestamps).
    package func events(in scope: Scope, matching filter: EventFilter, limit: Int, after: String? = nil)
        async throws(InventoryError) -> EventPage
    {
        var conditions = ["PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))'"]
        // Newest first: `until` gives the lowest key, `since` the highest.
        var lower = RowKeys.eventPrefix
        var upper = "event`"
        if let until = filter.until { lower = RowKeys.eventBoundary(at: until) }
        if let since = filter.since { upper = RowKeys.eventBoundary(at: since) + "~" }
        if let after, after >= lower {
            conditions.append("RowKey gt '\(TableQuery.quoted(after))'")
        } else {
            conditions.append("RowKey ge '\(TableQuery.quoted(lower))'")
        }
        conditions.append("RowKey lt '\(TableQuery.quoted(upper))'")
        if let actions = filter.actions, !actions.isEmpty {
            conditions.append(
                "(" + actions.sorted().map { "Action eq '\(TableQuery.quoted($0))'" }.joined(separator: " or ") + ")")
        }
        if let lease = filter.leaseId { conditions.append("LeaseId eq '\(TableQuery.quoted(lease.lowercased()))'") }
        if let actor = filter.actor { conditions.append("Actor eq '\(TableQuery.quoted(actor))'") }
        let text = conditions.joined(separator: " and ")
        let (events, resume) = try await page(text, limit: limit) { AuditEvent(entity: $0) }
        return EventPage(events: events, resumeAfter: resume)
    }
}
