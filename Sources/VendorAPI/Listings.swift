package import Foundation
package import StrictJSON

extension API {
    /// One audit event (`Event` in `openapi/`); empty texts are `null`.
    package struct Event: Sendable, Equatable, Codable {
        package var id: String?
        package var at: Date?
        package var action: String
        package var actor: String
        package var scope: String
        /// `aws` for an event of an AWS scope (left out for Azure, whose events are as before AWS scopes).
        package var cloud: String?
        /// An AWS scope's account (left out for Azure).
        package var accountId: String?
        package var cidr: String?
        package var cidrV6: String?
        package var leaseId: String?
        package var sessionId: String?
        package var before: String?
        package var after: String?
        package var detail: String?
        package var requestId: String?
        package var process: String?

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case id, at, action, actor, scope, cloud, accountId, cidr, cidrV6, leaseId, sessionId, before, after
            case detail, requestId, process
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            id: String?, at: Date?, action: String, actor: String, scope: String, cloud: String? = nil,
            accountId: String? = nil, cidr: String?, cidrV6: String?, leaseId: String?, sessionId: String?,
            before: String?, after: String?, detail: String?, requestId: String?, process: String?
        ) {
            func text(_ value: String?) -> String? { value.flatMap { $0.isEmpty ? nil : $0 } }
            self.id = text(id)
            self.at = at
            self.action = action
            self.actor = actor
            self.scope = scope
            self.cloud = cloud
            self.accountId = accountId
            self.cidr = text(cidr)
            self.cidrV6 = text(cidrV6)
            self.leaseId = text(leaseId)
            self.sessionId = text(sessionId)
            self.before = text(before)
            self.after = text(after)
            self.detail = text(detail)
            self.requestId = text(requestId)
            self.process = text(process)
        }
    }

    /// One page of `GET /api/events`.
    package struct EventList: Sendable, Equatable, Codable {
        package var events: [Event]
        package var continuation: String?
        package init(events: [Event], continuation: String?) {
            self.events = events
            self.continuation = continuation
        }
    }

    /// A reservation (`Reservation` in `openapi/`); a configured exclusion is `readOnly` with no `createdAt`.
    package struct Reservation: Sendable, Equatable, Codable {
        package var reservationId: String
        package var cidr: String
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope).
        package var subscription: String?
        /// `aws` for an AWS scope (nil for Azure).
        package var cloud: String?
        /// An AWS scope's account (nil for Azure).
        package var accountId: String?
        package var region: String
        package var owner: String
        package var reason: String
        package var expiresAt: Date?
        package var createdAt: Date?
        package var createdBy: String
        package var readOnly: Bool

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case reservationId, cidr, scope, subscription, cloud, accountId, region, owner, reason, expiresAt
            case createdAt, createdBy, readOnly
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            reservationId: String, cidr: String, scope: String, subscription: String?, cloud: String? = nil,
            accountId: String? = nil, region: String, owner: String, reason: String, expiresAt: Date?,
            createdAt: Date?, createdBy: String, readOnly: Bool
        ) {
            self.reservationId = reservationId
            self.cidr = cidr
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.owner = owner
            self.reason = reason
            self.expiresAt = expiresAt
            self.createdAt = createdAt
            self.createdBy = createdBy
            self.readOnly = readOnly
        }
    }

    /// `GET /api/reservations`.
    package struct ReservationList: Sendable, Equatable, Codable {
        package var reservations: [Reservation]
        package init(reservations: [Reservation]) { self.reservations = reservations }
    }

    /// `DELETE /api/reservations/{id}`: `cidr` and `scope` only when one was released.
    package struct Unreservation: Sendable, Equatable, Codable {
        package var reservationId: String
        package var released: Bool
        package var cidr: String?
        package var scope: String?

        package init(reservationId: String, released: Bool, cidr: String? = nil, scope: String? = nil) {
            self.reservationId = reservationId
            self.released = released
            self.cidr = cidr
            self.scope = scope
        }

        enum CodingKeys: String, CodingKey { case reservationId, released, cidr, scope }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(reservationId, forKey: .reservationId)
            try container.encode(released, forKey: .released)
            if let cidr { try container.encode(cidr, forKey: .cidr) }
            if let scope { try container.encode(scope, forKey: .scope) }
        }
    }

    /// `GET /api/webhooks/{name}/deliveries` (`WebhookDeliveries` in `openapi/`).
    package struct WebhookDeliveries: Sendable, Equatable, Codable {
        package var webhook: String
        package var url: String
        package var events: [String]
        package var cursors: [Cursor]
        package var deadLetters: [DeadLetter]

        package init(webhook: String, url: String, events: [String], cursors: [Cursor], deadLetters: [DeadLetter]) {
            self.webhook = webhook
            self.url = url
            self.events = events
            self.cursors = cursors
            self.deadLetters = deadLetters
        }

        /// Where the deliveries of one scope stand.
        package struct Cursor: Sendable, Equatable, Codable {
            package var scope: String
            package var lastEventId: String?
            package var delivered: Int
            package var deadLettered: Int
            package var lastDeliveredAt: Date?
            package var attempts: Int
            package var nextAttemptAt: Date?
            package var lastError: String?
            package var holder: String?
            package var heldUntil: Date?

            package init(
                scope: String, lastEventId: String?, delivered: Int, deadLettered: Int, lastDeliveredAt: Date?,
                attempts: Int, nextAttemptAt: Date?, lastError: String?, holder: String?, heldUntil: Date?
            ) {
                self.scope = scope
                self.lastEventId = lastEventId
                self.delivered = delivered
                self.deadLettered = deadLettered
                self.lastDeliveredAt = lastDeliveredAt
                self.attempts = attempts
                self.nextAttemptAt = nextAttemptAt
                self.lastError = lastError
                self.holder = holder
                self.heldUntil = heldUntil
            }
        }

        /// An event given up on, with the body that was to be sent (JSON, or the text when it is not JSON).
        package struct DeadLetter: Sendable, Equatable, Codable {
            package var eventId: String
            package var type: String
            package var scope: String
            package var attempts: Int
            package var lastError: String
            package var deadAt: Date?
            package var body: JSONValue

            package init(
                eventId: String, type: String, scope: String, attempts: Int, lastError: String, deadAt: Date?,
                body: JSONValue
            ) {
                self.eventId = eventId
                self.type = type
                self.scope = scope
                self.attempts = attempts
                self.lastError = lastError
                self.deadAt = deadAt
                self.body = body
            }
        }
    }

    /// `GET /healthz`.
    package struct Health: Sendable, Equatable, Codable {
        package var status: String
        package init(status: String = "ok") { self.status = status }
    }

    /// `GET /readyz`: `ready`, or `unavailable` with the `reason` (the open probe says only what is down).
    package struct Readiness: Sendable, Equatable, Codable {
        package var status: String
        package var reason: String?

        package init(status: String, reason: String? = nil) {
            self.status = status
            self.reason = reason
        }

        enum CodingKeys: String, CodingKey { case status, reason }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            if let reason { try container.encode(reason, forKey: .reason) }
        }
    }

    /// `GET /api/whoami`: the caller the credential names (`null` on an open Vendor's anonymous caller).
    package struct WhoAmI: Sendable, Equatable, Codable {
        package var caller: String?
        package init(caller: String?) { self.caller = caller }
    }
}
