package import Foundation

/// Durations of the Manager's rules (all can go down to seconds for tests).
package struct ManagerSettings: Sendable {
    /// A `leased` row is reaped this long after `ExpiresAt` (`REAP_GRACE_SECONDS`).
    package var reapGrace: TimeInterval = 15 * 60
    /// An anchored row whose VNet vanished is released only after this long (`RELEASE_GRACE_SECONDS`).
    package var releaseGrace: TimeInterval = 60 * 60
    /// How long a row stays `quarantined` before it returns to stock (`QUARANTINE_SECONDS`).
    package var quarantine: TimeInterval = 24 * 60 * 60
    /// `LastSeenAt` of a row whose VNet is still there is refreshed when older than this
    /// (`LAST_SEEN_REFRESH_SECONDS`): a bounded heartbeat, so a Sync with nothing to change writes
    /// nothing for this long, yet an operator can tell when a VNet was last confirmed.
    package var lastSeenRefresh: TimeInterval = 24 * 60 * 60
    /// How long the singleton lease lasts without renewal (`MANAGER_LEASE_SECONDS`): a crashed
    /// Manager's lease frees itself after this; a running one renews it every third of it.
    package var singletonLease: TimeInterval = 60

    package init() {}

    package static func load(environment: [String: String]) throws(IPAMConfiguration.Problems) -> ManagerSettings {
        var settings = ManagerSettings()
        var problems: [String] = []
        func seconds(_ setting: Setting, _ target: WritableKeyPath<ManagerSettings, TimeInterval>) {
            let name = setting.rawValue
            guard let text = environment[setting: setting] else { return }
            guard let value = Double(text), value >= 0, value.isFinite else {
                problems.append("\(name)=\(text): must be a number of seconds ≥ 0")
                return
            }
            settings[keyPath: target] = value
        }
        seconds(.reapGrace, \.reapGrace)
        seconds(.releaseGrace, \.releaseGrace)
        seconds(.quarantine, \.quarantine)
        seconds(.lastSeenRefresh, \.lastSeenRefresh)
        seconds(.managerLease, \.singletonLease)
        if settings.singletonLease < 3 {
            problems.append("MANAGER_LEASE_SECONDS=\(settings.singletonLease): must be at least 3 seconds")
        }
        if !problems.isEmpty { throw IPAMConfiguration.Problems(lines: problems) }
        return settings
    }
}
