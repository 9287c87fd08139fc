package import Foundation
package import IPAMCore
package import Inventory
package import Logging
package import Metrics
import ServiceLifecycle
import StrictJSON
import Synchronization

/// Sends one webhook POST and answers its HTTP status (throws when no answer came). The composition root
/// gives one over libcurl (`Bootstrap.webhookSender`); ManagerJobs reaches nothing over the network itself.
package typealias WebhookSender =
    @Sendable (_ url: String, _ headers: [(name: String, value: String)], _ body: [UInt8]) async throws -> Int

/// Delivers the audit trail to webhooks: at least once, in order per scope (docs/Design.md, "Webhooks").
///
/// The events are the outbox: every change wrote its event in its own transaction, so nothing that happened
/// can be missing from the trail. One pass takes, per webhook and scope, the cursor's hold (`If-Match`), sends
/// the settled events after it oldest first, and moves the cursor past each one delivered; a failure waits
/// with backoff (the next events of that scope wait behind it), and after `maxAttempts` the event is
/// dead-lettered with the cursor moved past it, in one transaction.
///
/// An event answered 2xx whose cursor write then failed (refused, its outcome unknown, storage unavailable) is
/// remembered (`UnrecordedDeliveries`): while this dispatcher finds the cursor still before it, it records the
/// event without sending it again. Only another holder (a takeover) or a restart sends an event twice.
package struct WebhookDispatcher: Sendable {
    package let webhooks: [Webhook]
    package let scopes: [Scope]
    package let inventory: Inventory
    package let settings: WebhookSettings
    package let logger: Logger
    let send: WebhookSender
    let now: @Sendable () -> Date
    let metrics: WebhookMetrics
    let unrecorded = UnrecordedDeliveries()

    package init(
        webhooks: [Webhook], scopes: [Scope], inventory: Inventory, settings: WebhookSettings, logger: Logger,
        metrics: WebhookMetrics = WebhookMetrics(factory: nil), now: @escaping @Sendable () -> Date = { Date() },
        send: @escaping WebhookSender
    ) {
        self.webhooks = webhooks
        self.scopes = scopes.sorted()
        self.inventory = inventory
        self.settings = settings
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.send = send
    }

    /// What one pass did.
    package struct Report: Sendable, Equatable {
        package var delivered = 0
        package var failed = 0
        package var deadLettered = 0
        /// Cursors another dispatcher held, or that wait for their backoff.
        package var skipped = 0
        package var storageFailures = 0
    }

    /// One pass over every webhook and scope.
    package func runOnce() async -> Report {
        var report = Report()
        for webhook in webhooks {
            for scope in scopes {
                do { try await dispatch(webhook, in: scope, into: &report) } catch {
                    report.storageFailures += 1
                    logger.warning(
                        "webhook pass failed on storage",
                        metadata: [
                            "webhook": .string(webhook.name), "scope": .string(scope.partitionKey),
                            "error": .string(error.detail),
                        ])
                }
            }
        }
        return report
    }

    func dispatch(_ webhook: Webhook, in scope: Scope, into report: inout Report) async throws(InventoryError) {
        let identity = inventory.actor
        guard var cursor = try await inventory.webhookCursor(webhook.name, in: scope) else {
            // A webhook starts with the events after its first pass (not the whole history).
            _ = try await inventory.write(
                WebhookCursor(
                    webhook: webhook.name, scope: scope,
                    lastEvent: RowKeys.eventBoundary(at: now().addingTimeInterval(-settings.settle))))
            return
        }
        let start = now()
        if let holder = cursor.holder, holder != identity, let until = cursor.heldUntil, until > start {
            report.skipped += 1
            return
        }
        if let next = cursor.nextAttemptAt, next > start {
            report.skipped += 1
            return
        }
        let events = try await inventory.events(
            in: scope, after: cursor.lastEvent, until: start.addingTimeInterval(-settings.settle), limit: 200)
        guard !events.isEmpty else {
            if cursor.holder == identity {
                cursor.holder = nil
                cursor.heldUntil = nil
                _ = try await inventory.write(cursor)
            }
            return
        }
        cursor.holder = identity
        cursor.heldUntil = start.addingTimeInterval(settings.hold)
        guard let held = try await inventory.write(cursor) else {
            report.skipped += 1
            return
        } // another dispatcher took it first
        cursor = held
        for event in events {
            guard let id = event.id else { continue }
            guard webhook.wants(action: event.action.rawValue) else {
                cursor.lastEvent = id
                continue
            }
            let type = WebhookEvent.type(of: event.action.rawValue)
            var members: [(String, JSONValue)] = [("type", .string(type)), ("webhook", .string(webhook.name))]
            if case .object(let fields) = event.json(scope: scope) { members += fields }
            let body = JSONValue.object(members).serializedBytes
            let alreadyDelivered = unrecorded.contains(id, for: cursor.rowKey)
            var failure: String? = nil
            if !alreadyDelivered {
                let sentAt = now()
                let headers: [(name: String, value: String)] = [
                    ("Content-Type", "application/json"), ("User-Agent", "ipam-webhooks/1"),
                    (WebhookSignature.header, WebhookSignature.sign(body: body, secret: webhook.secret, at: sentAt)),
                    ("ipam-event-id", id), ("ipam-webhook", webhook.name),
                ]
                do {
                    let status = try await send(webhook.url, headers, body)
                    if !(200..<300).contains(status) { failure = "HTTP \(status)" }
                } catch {
                    failure = "\(error)"
                }
            }
            let after = now()
            cursor.heldUntil = after.addingTimeInterval(settings.hold)
            if let failure {
                cursor.attempts += 1
                cursor.lastError = failure
                report.failed += 1
                metrics.record(webhook.name, "failed")
                if cursor.attempts >= settings.maxAttempts {
                    let letter = DeadLetter(
                        webhook: webhook.name, scope: scope, eventId: id, type: type,
                        body: String(decoding: body, as: UTF8.self),
                        attempts: cursor.attempts, lastError: failure, deadAt: after)
                    cursor.lastEvent = id
                    cursor.attempts = 0
                    cursor.nextAttemptAt = nil
                    cursor.deadLettered += 1
                    guard let written = try await inventory.deadLetter(letter, advancing: cursor) else { return }
                    cursor = written
                    report.deadLettered += 1
                    metrics.record(webhook.name, "dead-lettered")
                    logger.error(
                        "webhook event dead-lettered",
                        metadata: [
                            "webhook": .string(webhook.name), "event": .string(id), "type": .string(type),
                            "attempts": .stringConvertible(letter.attempts), "error": .string(failure),
                        ])
                    continue
                }
                cursor.nextAttemptAt = after.addingTimeInterval(WebhookSettings.backoff(afterAttempts: cursor.attempts))
                cursor.holder = nil
                cursor.heldUntil = nil
                logger.warning(
                    "webhook delivery failed; retrying later",
                    metadata: [
                        "webhook": .string(webhook.name), "event": .string(id),
                        "attempts": .stringConvertible(cursor.attempts), "error": .string(failure),
                    ])
                _ = try await inventory.write(cursor)
                return // the later events of this scope wait behind this one: in order
            }
            cursor.lastEvent = id
            cursor.attempts = 0
            cursor.nextAttemptAt = nil
            cursor.lastError = nil
            cursor.delivered += 1
            cursor.lastDeliveredAt = after
            if !alreadyDelivered {
                report.delivered += 1
                metrics.record(webhook.name, "delivered")
                unrecorded.remember(id, for: cursor.rowKey) // until the cursor is written past it
            }
            // Nil: the hold was taken over (the new holder goes on) or the outcome is unknown (the next pass reads
            // the cursor again); either way this pass stops here.
            guard let written = try await inventory.write(cursor) else { return }
            unrecorded.forget(for: cursor.rowKey)
            cursor = written
        }
        cursor.holder = nil
        cursor.heldUntil = nil
        _ = try await inventory.write(cursor)
    }
}

/// Per cursor, the event this dispatcher had answered 2xx but could not yet write its cursor past (at most one:
/// a pass stops at the first failed cursor write). It is not sent again while the cursor is still before it.
final class UnrecordedDeliveries: Sendable {
    private let ids = Mutex<[String: String]>([:])

    init() {}

    func contains(_ id: String, for cursor: String) -> Bool { ids.withLock { $0[cursor] == id } }
    func remember(_ id: String, for cursor: String) { ids.withLock { $0[cursor] = id } }
    func forget(for cursor: String) { ids.withLock { $0[cursor] = nil } }
}

/// `ipam_webhook_deliveries_total{webhook, outcome}` (delivered, failed, dead-lettered).
package struct WebhookMetrics: Sendable {
    let factory: (any MetricsFactory)?

    package init(factory: (any MetricsFactory)?) { self.factory = factory }

    func record(_ webhook: String, _ outcome: String) {
        guard let factory else { return }
        Metrics.Counter(
            label: "ipam_webhook_deliveries_total", dimensions: [("webhook", webhook), ("outcome", outcome)],
            factory: factory
        ).increment()
    }
}

/// The dispatcher as a service of the Manager's group: a pass every `poll` seconds until shutdown.
package struct WebhookDispatchService<C: Clock>: Service where C.Duration == Duration {
    package let dispatcher: WebhookDispatcher
    package let clock: C

    package init(dispatcher: WebhookDispatcher, clock: C) {
        self.dispatcher = dispatcher
        self.clock = clock
    }

    package func run() async throws {
        let wait = Duration.milliseconds(Int64(dispatcher.settings.poll * 1000))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            _ = await dispatcher.runOnce()
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) } } catch { return }
        }
    }
}
