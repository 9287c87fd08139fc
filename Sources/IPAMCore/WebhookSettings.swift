package import Foundation

/// How the dispatcher delivers (`WEBHOOK_*`).
package struct WebhookSettings: Sendable, Equatable {
    /// Failed attempts at one event before it is dead-lettered.
    package var maxAttempts = 8
    /// Between passes over every webhook and scope.
    package var poll: TimeInterval = 5
    /// Events younger than this are left for a later pass: an event commits up to 15 s plus one storage attempt's
    /// timeout after its key (its time, docs/Design.md "Webhooks"), and a cursor past it would never see it.
    package var settle: TimeInterval = 30
    /// How long a dispatcher's hold on a cursor lasts without being renewed (a dead holder's is taken over after it).
    package var hold: TimeInterval = 60

    package init() {}

    package static func load(environment: [String: String]) throws(IPAMConfiguration.Problems) -> WebhookSettings {
        var settings = WebhookSettings()
        var problems: [String] = []
        func number(_ setting: Setting, _ range: ClosedRange<Double>) -> Double? {
            guard let text = environment[setting: setting] else { return nil }
            guard let value = Double(text), range.contains(value) else {
                problems.append(
                    "\(setting.rawValue)=\(text): must be a number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return value
        }
        if let value = number(.webhookMaxAttempts, 1...100) { settings.maxAttempts = Int(value) }
        if let value = number(.webhookPollSeconds, 0.1...3600) { settings.poll = value }
        if let value = number(.webhookSettleSeconds, 0...3600) { settings.settle = value }
        if let value = number(.webhookHoldSeconds, 1...3600) { settings.hold = value }
        guard problems.isEmpty else { throw IPAMConfiguration.Problems(lines: problems) }
        return settings
    }

    /// The wait before attempt `attempts + 1`: 1 s, doubling, at most 5 minutes.
    package static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(300, pow(2, Double(max(0, attempts - 1))))
    }
}
