import Crypto
import Foundation
import StrictJSON

/// One receiver of audit events (`WEBHOOKS_CONFIG`): where they go, the secret that signs them, and which.
public struct Webhook: Sendable, Equatable {
    public let name: String
    public let url: String
    public let secret: String
    /// Event types delivered (`WebhookEvent.type(of:)`); `*` delivers every event.
    public let events: Set<String>

    public init(name: String, url: String, secret: String, events: Set<String>) {
        self.name = name
        self.url = url
        self.secret = secret
        self.events = events
    }

    /// Whether an event of this audit action goes to this webhook.
    public func wants(action: String) -> Bool { events.contains("*") || events.contains(WebhookEvent.type(of: action)) }
}

/// The names webhooks use for audit actions: what happened to the lease or range, in the past tense.
public enum WebhookEvent {
    /// The actions of the scopes' trails (leases, reservations, the space), the events a dispatcher walks.
    /// Host-address and public-IP events live in partitions of their own and are not delivered.
    static let types: [String: String] = [
        "lease": "leased", "carve-lease": "leased", "adopt": "adopted", "renew": "renewed", "revive": "revived",
        "anchor": "anchored", "re-anchor": "anchored", "release": "released", "reap": "reaped", "return-to-stock": "returned",
        "reserve": "reserved", "unreserve": "unreserved", "reservation-expired": "unreserved", "occupy": "occupied", "free": "freed", "forget": "freed",
        "missing": "missing", "seen-again": "seen-again", "stock": "stocked",
    ]

    /// The event type of an audit action (the action itself when it has no other name).
    public static func type(of action: String) -> String { types[action] ?? action }

    /// Every event type a webhook may ask for.
    public static var all: Set<String> { Set(types.values) }
}

/// The `ipam-signature` header: `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body" under the webhook's secret>`.
/// A receiver recomputes it over the raw body and compares in constant time, and refuses old timestamps.
public enum WebhookSignature {
    public static let header = "ipam-signature"

    public static func sign(body: [UInt8], secret: String, at time: Date) -> String {
        let t = Int64(time.timeIntervalSince1970.rounded(.down))
        return "t=\(t),v1=\(digest(body: body, secret: secret, t: t))"
    }

    static func digest(body: [UInt8], secret: String, t: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return ASCIIFormat.hex(mac)
    }

    /// Checks a header against a body (for receivers written in Swift, and for the tests).
    public static func verify(_ header: String, body: [UInt8], secret: String) -> Bool {
        let parts = Dictionary(header.split(separator: ",").compactMap { part -> (String, String)? in
            let pair = part.split(separator: "=", maxSplits: 1)
            return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
        }, uniquingKeysWith: { a, _ in a })
        guard let t = parts["t"].flatMap({ Int64($0) }), let given = parts["v1"] else { return false }
        let expected = digest(body: body, secret: secret, t: t)
        return given.utf8.count == expected.utf8.count && zip(given.utf8, expected.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
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
            guard let object = entry.objectValue else { problems.append("\(path): not an object"); continue }
            for (key, _) in object where !fields.contains(key) { problems.append("\(path).\(key): unknown field") }
            let fields = Dictionary(object, uniquingKeysWith: { a, _ in a })
            guard let name = fields["name"]?.stringValue, PoolPlan.isValidName(name) else {
                problems.append("\(path).name: missing, or not 1–63 lower-case letters, digits and hyphens"); continue
            }
            guard !hooks.contains(where: { $0.name == name }) else { problems.append("\(path) (\(name)): the name is used twice"); continue }
            guard let url = fields["url"]?.stringValue, let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                problems.append("\(path) (\(name)).url: missing or not an http(s) URL"); continue
            }
            guard let secret = fields["secret"]?.stringValue, secret.count >= 16 else {
                problems.append("\(path) (\(name)).secret: missing or shorter than 16 characters"); continue
            }
            guard let list = fields["events"]?.arrayValue?.compactMap(\.stringValue), !list.isEmpty else {
                problems.append("\(path) (\(name)).events: missing or not a non-empty array of event types"); continue
            }
            let unknown = list.filter { $0 != "*" && !WebhookEvent.all.contains($0) }
            if !unknown.isEmpty {
                problems.append("\(path) (\(name)).events: unknown \(unknown.joined(separator: ", ")) (known: \(WebhookEvent.all.sorted().joined(separator: ", ")), or *)")
                continue
            }
            hooks.append(Webhook(name: name, url: url, secret: secret, events: Set(list)))
        }
        return hooks
    }
}
