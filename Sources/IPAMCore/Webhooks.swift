import Crypto
package import Foundation
import StrictJSON

/// One receiver of audit events (`WEBHOOKS_CONFIG`): where they go, the secret that signs them, and which.
package struct Webhook: Sendable, Equatable {
    package let name: String
    package let url: String
    package let secret: String
    /// Event types delivered (`WebhookEvent.type(of:)`); `*` delivers every event.
    package let events: Set<String>

    package init(name: String, url: String, secret: String, events: Set<String>) {
        self.name = name
        self.url = url
        self.secret = secret
        self.events = events
    }

    /// Whether an event of this audit action goes to this webhook.
    package func wants(action: String) -> Bool {
        events.contains("*") || events.contains(WebhookEvent.type(of: action))
    }
}

/// The names webhooks use for audit actions: what happened to the lease or range, in the past tense.
package enum WebhookEvent {
    /// The actions of the scopes' trails (leases, reservations, the space), the events a dispatcher walks.
    /// Host-address and public-IP events live in partitions of their own and are not delivered.
    static let types: [String: String] = [
        "lease": "leased", "carve-lease": "leased", "adopt": "adopted", "renew": "renewed", "revive": "revived",
        "anchor": "anchored", "re-anchor": "anchored", "release": "released", "reap": "reaped",
        "return-to-stock": "returned",
        "reserve": "reserved", "unreserve": "unreserved", "reservation-expired": "unreserved", "occupy": "occupied",
        "free": "freed", "forget": "freed",
        "missing": "missing", "seen-again": "seen-again", "stock": "stocked",
        "space-low": "space-low", "space-recovered": "space-recovered",
    ]

    /// The event type of an audit action (the action itself when it has no other name).
    package static func type(of action: String) -> String { types[action] ?? action }

    /// Every event type a webhook may ask for.
    package static var all: Set<String> { Set(types.values) }
}

/// The `ipam-signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body" under the webhook's secret>`.
/// A receiver recomputes it over the raw body, compares in constant time, and refuses a timestamp too far
/// from its own clock, so a captured delivery cannot be replayed later.
package enum WebhookSignature {
    package static let header = "ipam-signature"
    /// How far a delivery's timestamp may be from the receiver's clock, either way: 5 minutes.
    package static let defaultTolerance: TimeInterval = 300

    /// What a receiver makes of a delivery's signature.
    package enum Verdict: Sendable, Equatable {
        case valid
        /// Missing, malformed, or not the HMAC of this body under the secret.
        case badSignature
        /// Correctly signed, but its timestamp is more than the tolerance before or after now: a replay, or a
        /// clock far off.
        case staleTimestamp
    }

    package static func sign(body: [UInt8], secret: String, at time: Date) -> String {
        let t = Int64(time.timeIntervalSince1970.rounded(.down))
        return "t=\(t),v1=\(digest(body: body, secret: secret, t: t))"
    }

    static func digest(body: [UInt8], secret: String, t: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return ASCIIFormat.hex(mac)
    }

    /// Checks a header against a body and the receiver's clock (for receivers written in Swift, and the tests).
    /// - Parameters:
    ///   - now: the receiver's current time (passed in, so tests and receivers decide which clock counts).
    ///   - tolerance: how far the signed timestamp may be from `now`, before or after.
    package static func verdict(
        _ header: String, body: [UInt8], secret: String, now: Date, tolerance: TimeInterval = defaultTolerance
    ) -> Verdict {
        let parts = Dictionary(
            header.split(separator: ",").compactMap { part -> (String, String)? in
                let pair = part.split(separator: "=", maxSplits: 1)
                return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        guard let t = parts["t"].flatMap({ Int64($0) }), let given = parts["v1"] else { return .badSignature }
        let expected = digest(body: body, secret: secret, t: t)
        let same =
            given.utf8.count == expected.utf8.count
            && zip(given.utf8, expected.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
        guard same else { return .badSignature }
        return abs(now.timeIntervalSince1970 - Double(t)) <= tolerance ? .valid : .staleTimestamp
    }

    /// Whether a delivery is signed with the secret at a time within `tolerance` of `now`.
    package static func verify(
        _ header: String, body: [UInt8], secret: String, now: Date, tolerance: TimeInterval = defaultTolerance
    ) -> Bool {
        verdict(header, body: body, secret: secret, now: now, tolerance: tolerance) == .valid
    }
}

/// The event ids a receiver has handled lately, to drop a redelivery (the dispatcher delivers at least once:
/// the same `ipam-event-id` may arrive twice). Remembers at most `capacity` ids, forgetting the oldest first,
/// so its memory is bounded however long the receiver runs.
package struct RecentEventIDs: Sendable {
    package let capacity: Int
    private var known: Set<String> = []
    private var order: [String] = []
    /// Where the next id goes in `order` once it is full (the oldest one is there).
    private var next = 0

    package init(capacity: Int = 10_000) {
        precondition(capacity > 0, "RecentEventIDs needs room for at least one id")
        self.capacity = capacity
    }

    /// How many ids it holds now (never more than `capacity`).
    package var count: Int { known.count }

    /// Records `id`; false when it was already seen (a duplicate to drop).
    package mutating func insert(_ id: String) -> Bool {
        guard !known.contains(id) else { return false }
        if order.count < capacity {
            order.append(id)
        } else {
            known.remove(order[next])
            order[next] = id
            next = (next + 1) % capacity
        }
        known.insert(id)
        return true
    }
}

extension Webhook {
    static let fields: Set<String> = ["name", "url", "secret", "events"]

    /// Parses `WEBHOOKS_CONFIG` (a JSON array); every problem goes to `problems`, one a line, never a secret.
    static func parse(_ text: String?, problems: inout [String]) -> [Webhook] {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return [] }
        guard let json = try? JSONValue.parse(Array(text.utf8)), let entries = json.arrayValue else {
            problems.append("WEBHOOKS_CONFIG: not a JSON array of {name, url, secret, events}")
            return []
        }
        var hooks: [Webhook] = []
        for (index, entry) in entries.enumerated() {
            let path = "WEBHOOKS_CONFIG[\(index)]"
            guard let object = entry.objectValue else {
                problems.append("\(path): not an object")
                continue
            }
            for (key, _) in object where !fields.contains(key) { problems.append("\(path).\(key): unknown field") }
            let fields = Dictionary(object, uniquingKeysWith: { a, _ in a })
            guard let name = fields["name"]?.stringValue, PoolPlan.isValidName(name) else {
                problems.append("\(path).name: missing, or not 1–63 lower-case letters, digits and hyphens")
                continue
            }
            guard !hooks.contains(where: { $0.name == name }) else {
                problems.append("\(path) (\(name)): the name is used twice")
                continue
            }
            guard let url = fields["url"]?.stringValue, let parsed = URL(string: url),
                ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil
            else {
                problems.append("\(path) (\(name)).url: missing or not an http(s) URL")
                continue
            }
            guard let secret = fields["secret"]?.stringValue, secret.count >= 16 else {
                problems.append("\(path) (\(name)).secret: missing or shorter than 16 characters")
                continue
            }
            guard let list = fields["events"]?.arrayValue?.compactMap(\.stringValue), !list.isEmpty else {
                problems.append("\(path) (\(name)).events: missing or not a non-empty array of event types")
                continue
            }
            let unknown = list.filter { $0 != "*" && !WebhookEvent.all.contains($0) }
            if !unknown.isEmpty {
                problems.append(
                    "\(path) (\(name)).events: unknown \(unknown.joined(separator: ", ")) (known: \(WebhookEvent.all.sorted().joined(separator: ", ")), or *)"
                )
                continue
            }
            hooks.append(Webhook(name: name, url: url, secret: secret, events: Set(list)))
        }
        return hooks
    }
}
