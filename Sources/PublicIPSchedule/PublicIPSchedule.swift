package import Foundation
import Yams

/// Which public IP belongs to which VM when: named VMs and public IPs, and daily time windows evaluated in
/// one IANA time zone (`PUBLIC_IP_SCHEDULE`, docs/Configuration.md).
///
/// Windows are half-open `[start, end)` in local wall-clock time and may cross midnight; daylight-saving
/// changes follow the zone (a window is active whenever the local clock shows a minute inside it).
package struct PublicIPSchedule: Sendable, Equatable {
    /// An Azure resource the schedule names by a label.
    package struct Resource: Sendable, Equatable {
        package let label: String
        package let name: String
        package let resourceGroup: String
        package let subscriptionId: String
        let provider: String

        /// The ARM resource id.
        package var id: String {
            "/subscriptions/\(subscriptionId)/resourceGroups/\(resourceGroup)/providers/\(provider)/\(name)"
        }
    }

    /// A daily window: minutes after local midnight, `[start, end)`, crossing midnight when `end <= start`.
    package struct Window: Sendable, Equatable, CustomStringConvertible {
        package let start: Int
        package let end: Int

        package init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        package func contains(minute: Int) -> Bool {
            start < end ? (start..<end).contains(minute) : (minute >= start || minute < end)
        }

        /// The minute ranges of the day it covers (two when it crosses midnight).
        var ranges: [Range<Int>] { start < end ? [start..<end] : [start..<1440, 0..<end].filter { !$0.isEmpty } }

        package func overlaps(_ other: Window) -> Bool {
            ranges.contains { a in other.ranges.contains { b in a.overlaps(b) } }
        }

        package var description: String { "\(Self.clock(start))–\(Self.clock(end))" }

        static func clock(_ minute: Int) -> String {
            let h = minute / 60
            let m = minute % 60
            return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
        }
    }

    /// One line of `schedule`: the VM holds the IP during the window.
    package struct Entry: Sendable, Equatable, CustomStringConvertible {
        package let index: Int
        package let window: Window
        package let vm: String
        package let ip: String
        package var description: String { "schedule[\(index)] (\(window) \(vm)/\(ip))" }
    }

    package let timeZone: TimeZone
    package let vms: [String: Resource]
    package let publicIPs: [String: Resource]
    package let entries: [Entry]

    /// The assignments active at `date`: `(vm, ip)` labels, ordered by IP label. A VM or IP in none is left
    /// alone.
    package func desired(at date: Date) -> [Assignment] {
        let minute = localMinute(at: date)
        let active = entries.filter { $0.window.contains(minute: minute) }.map { Assignment(vm: $0.vm, ip: $0.ip) }
        return Array(Set(active)).sorted { ($0.ip, $0.vm) < ($1.ip, $1.vm) }
    }

    /// Minutes after local midnight that the zone's clock shows at `date`.
    package func localMinute(at date: Date) -> Int {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
    }

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The instant the zone's clock shows `time` (`HH:MM`) on `day` (`YYYY-MM-DD`, default: the day it is at
    /// `now` in the zone). A time the clock skips (spring forward) is the first instant after it.
    package func instant(time: String?, day: String?, now: Date) -> Date? {
        var parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: now)
        if let day {
            let fields = day.split(separator: "-", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0].count == 4, fields[1].count == 2, fields[2].count == 2,
                let year = Int(fields[0]), let month = Int(fields[1]), let date = Int(fields[2]),
                (1...12).contains(month), (1...31).contains(date)
            else { return nil }
            (parts.year, parts.month, parts.day) = (year, month, date)
        }
        if let time {
            guard let minute = Self.minute(time), minute < 1440 else { return nil }
            (parts.hour, parts.minute) = (minute / 60, minute % 60)
        }
        parts.second = 0
        guard let found = calendar.date(from: parts), calendar.component(.day, from: found) == parts.day || day == nil
        else { return nil }
        return found
    }

    /// `date` in ISO 8601 with the zone's offset at that instant, e.g. `2026-03-29T10:00:00+01:00`.
    package func iso8601(_ date: Date) -> String {
        let p = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ n: Int?) -> String {
            let n = n ?? 0
            return (n < 10 ? "0" : "") + String(n)
        }
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600
        let minutes = abs(offset) % 3600 / 60
        return
            "\(p.year ?? 0)-\(two(p.month))-\(two(p.day))T\(two(p.hour)):\(two(p.minute)):\(two(p.second))\(sign)\(two(hours)):\(two(minutes))"
    }

    /// `HH:MM` (00:00–23:59, and 24:00 for the end of the day) as minutes; nil when malformed.
    static func minute(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let h = Int(parts[0]), let m = Int(parts[1]), m < 60, h < 24 || (h == 24 && m == 0)
        else { return nil }
        return h * 60 + m
    }
}

/// A VM that should hold a public IP.
package struct Assignment: Sendable, Hashable, CustomStringConvertible {
    package let vm: String
    package let ip: String
    package init(vm: String, ip: String) {
        self.vm = vm
        self.ip = ip
    }
    package var description: String { "\(vm)/\(ip)" }
}

/// Everything wrong with a schedule document, one problem per line, each naming the entries it is about.
package struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    package let problems: [String]
    package var description: String { problems.joined(separator: "\n") }
}
