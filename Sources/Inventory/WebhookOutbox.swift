package import AzureTables
package import Foundation
package import IPAMCore

/// How far one webhook got in one scope's audit trail (`cursor_{webhook}|{scope}` in the `webhooks`
/// partition), and who is delivering it right now.
///
/// Events newer than `lastEvent` (smaller keys: the trail is newest first) are not delivered yet. Only the
/// process that holds the cursor (`holder` until `heldUntil`, taken `If-Match` its ETag) sends, so two
/// dispatchers never send the same event in normal operation; one that dies while holding it is replaced
/// once the hold runs out, and redelivers at most the event it was sending (the same id).
package struct WebhookCursor: Sendable, Equatable {
    package let webhook: String
    package let scope: Scope
    /// The row key of the last event handled (delivered, skipped or dead-lettered), or a time boundary.
    package var lastEvent: String
    package var delivered = 0
    package var deadLettered = 0
    package var lastDeliveredAt: Date?
    /// Failed attempts at the next event, and when to try again.
    package var attempts = 0
    package var nextAttemptAt: Date?
    package var lastError: String?
    package var holder: String?
    package var heldUntil: Date?
    /// Nil: never written.
    package var etag: String?

    package init(webhook: String, scope: Scope, lastEvent: String) {
        self.webhook = webhook
        self.scope = scope
        self.lastEvent = lastEvent
    }

    package var rowKey: String { RowKeys.webhookCursor(webhook, scope) }

    package func entity() -> TableEntity {
        var p: [String: TableValue] = [
            "Webhook": .string(webhook), "Scope": .string(scope.partitionKey),
            "Subscription": .string(scope.account), "Region": .string(scope.region),
            "LastEvent": .string(lastEvent), "Delivered": .int64(Int64(delivered)),
            "DeadLettered": .int64(Int64(deadLettered)), "Attempts": .int32(Int32(attempts)),
            "LastError": .string(lastError ?? ""), "Holder": .string(holder ?? ""),
        ]
        for (name, date) in [
            ("LastDeliveredAt", lastDeliveredAt), ("NextAttemptAt", nextAttemptAt), ("HeldUntil", heldUntil),
        ] {
            if let date { p[name] = .dateTime(date) }
        }
        scope.writeCloud(into: &p)
        return TableEntity(partitionKey: RowKeys.webhooksPartition, rowKey: rowKey, properties: p)
    }

    package init?(entity: TableEntity) {
        guard let webhook = entity["Webhook"]?.stringValue, let account = entity["Subscription"]?.stringValue,
            let region = entity["Region"]?.stringValue,
            let scope = Scope(storedCloud: entity["Cloud"]?.stringValue, account: account, region: region),
            let last = entity["LastEvent"]?.stringValue
        else { return nil }
        self.init(webhook: webhook, scope: scope, lastEvent: last)
        func text(_ name: String) -> String? { entity[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        delivered = Int(entity["Delivered"]?.int64Value ?? 0)
        deadLettered = Int(entity["DeadLettered"]?.int64Value ?? 0)
        attempts = Int(entity["Attempts"]?.int64Value ?? 0)
        lastError = text("LastError")
        holder = text("Holder")
        lastDeliveredAt = entity["LastDeliveredAt"]?.dateValue
        nextAttemptAt = entity["NextAttemptAt"]?.dateValue
        heldUntil = entity["HeldUntil"]?.dateValue
        etag = entity.etag
    }
}

/// An event a webhook gave up on after its attempts (`dead_{webhook}|{scope}|{event id}`): the body it
/// would have sent and why it failed.
package struct DeadLetter: Sendable, Equatable {
    package let webhook: String
    package let scope: Scope
    package let eventId: String
    package let type: String
    package let body: String
    package let attempts: Int
    package let lastError: String
    package let deadAt: Date

    package init(
        webhook: String, scope: Scope, eventId: String, type: String, body: String, attempts: Int, lastError: String,
        deadAt: Date
    ) {
        self.webhook = webhook
        self.scope = scope
        self.eventId = eventId
        self.type = type
        self.body = body
        self.attempts = attempts
        self.lastError = lastError
        self.deadAt = deadAt
    }

    package func entity() -> TableEntity {
        var p: [String: TableValue] = [
            "Webhook": .string(webhook), "Subscription": .string(scope.account),
            "Region": .string(scope.region), "EventId": .string(eventId),
            "Type": .string(type), "Body": .string(String(body.prefix(30_000))),
            "Attempts": .int32(Int32(attempts)), "LastError": .string(String(lastError.prefix(1000))),
            "DeadAt": .dateTime(deadAt),
        ]
        scope.writeCloud(into: &p)
        return TableEntity(
            partitionKey: RowKeys.webhooksPartition,
            rowKey: RowKeys.deadLetterPrefix(webhook) + scope.partitionKey + "|" + eventId, properties: p)
    }

    package init?(entity: TableEntity) {
        guard let webhook = entity["Webhook"]?.stringValue, let account = entity["Subscription"]?.stringValue,
            let region = entity["Region"]?.stringValue,
            let scope = Scope(storedCloud: entity["Cloud"]?.stringValue, account: account, region: region),
            let eventId = entity["EventId"]?.stringValue
        else { return nil }
        self.init(
            webhook: webhook, scope: scope, eventId: eventId,
            type: entity["Type"]?.stringValue ?? "",
            body: entity["Body"]?.stringValue ?? "", attempts: Int(entity["Attempts"]?.int64Value ?? 0),
            lastError: entity["LastError"]?.stringValue ?? "",
            deadAt: entity["DeadAt"]?.dateValue ?? .distantPast)
    }
}

extension RowKeys {
    /// The partition of webhook cursors and dead letters (never a scope's: those always hold `_`).
    package static let webhooksPartition = "webhooks"
    package static func webhookCursor(_ webhook: String, _ scope: Scope) -> String {
        webhookCursorPrefix(webhook) + scope.partitionKey
    }
    package static func webhookCursorPrefix(_ webhook: String) -> String { "cursor_\(webhook)|" }
    package static func deadLetterPrefix(_ webhook: String) -> String { "dead_\(webhook)|" }
    /// A boundary in the audit trail: every event at or before `date` has a larger (or equal) key.
    package static func eventBoundary(at date: Date) -> String {
        String(event(at: date).prefix(eventPrefix.count + 19))
    }
}

extension Inventory {
    /// The cursor of `webhook` in `scope`, nil before its first write.
    package func webhookCursor(_ webhook: String, in scope: Scope) async throws(InventoryError) -> WebhookCursor? {
        try await storage {
            try await table.get(partitionKey: RowKeys.webhooksPartition, rowKey: RowKeys.webhookCursor(webhook, scope))
                .flatMap(WebhookCursor.init(entity:))
        }
    }

    /// Writes `cursor` `If-Match` the ETag it was read with (inserted when it has none). Nil: another
    /// process wrote it meanwhile (or the answer was lost): whoever holds it now goes on.
    package func write(_ cursor: WebhookCursor) async throws(InventoryError) -> WebhookCursor? {
        try await submitCursor(cursor, with: [])
    }

    /// Writes a dead letter and the cursor past its event in one transaction (the same partition).
    package func deadLetter(_ letter: DeadLetter, advancing cursor: WebhookCursor) async throws(InventoryError)
        -> WebhookCursor?
    {
        try await submitCursor(cursor, with: [.insertOrReplace(letter.entity())])
    }

    private func submitCursor(_ cursor: WebhookCursor, with others: [TableTransactionAction])
        async throws(InventoryError) -> WebhookCursor?
    {
        let write: TableTransactionAction =
            cursor.etag.map { .replace(cursor.entity(), ifMatch: .etag($0)) } ?? .insert(cursor.entity())
        do {
            let etags = try await table.submitTransaction([write] + others)
            var written = cursor
            written.etag = etags.first ?? nil
            return written
        } catch {
            switch WriteFailure(error) {
            case .conflict, .unknown: return nil
            case .failed(let failure): throw failure
            }
        }
    }

    /// Every cursor of `webhook`, one per scope it has started in.
    package func webhookCursors(_ webhook: String) async throws(InventoryError) -> [WebhookCursor] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.webhookCursorPrefix(webhook), in: RowKeys.webhooksPartition),
                WebhookCursor.init(entity:))
        }
    }

    /// The dead letters of `webhook`, in scope and event order.
    package func deadLetters(_ webhook: String) async throws(InventoryError) -> [DeadLetter] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.deadLetterPrefix(webhook), in: RowKeys.webhooksPartition),
                DeadLetter.init(entity:))
        }
    }

    /// Up to `limit` events of `scope` newer than the key `after` and no newer than `until`, oldest first.
    ///
    /// The trail is newest first, so the oldest events after the cursor are the last of any key range: it reads
    /// a window of time just after the cursor, a minute at first and doubling until it holds `limit` events or
    /// reaches `until`. A cursor far behind (a receiver down for a day) costs about what it delivers, not its
    /// whole backlog on every pass.
    package func events(in scope: Scope, after key: String, until: Date, limit: Int) async throws(InventoryError)
        -> [AuditEvent]
    {
        let lower = RowKeys.eventBoundary(at: until)
        guard lower < key else { return [] }
        let start = RowKeys.eventTime(ofKey: key)
        var window: TimeInterval = 60
        while true {
            // Events up to `start + window` (at least `lower`: never newer than `until`).
            let bound = start.map { max(lower, RowKeys.eventBoundary(at: $0.addingTimeInterval(window))) } ?? lower
            let reachesUntil = bound == lower
            if bound < key {
                let filter =
                    "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(TableQuery.quoted(bound))' and RowKey lt '\(TableQuery.quoted(key))'"
                let found = try await storage {
                    try await table.queryAll(filter: filter, AuditEvent.init(entity:))
                }
                if found.count >= limit || reachesUntil { return Array(found.reversed().prefix(limit)) }
            } else if reachesUntil {
                return []
            }
            window *= 2
        }
    }
}
