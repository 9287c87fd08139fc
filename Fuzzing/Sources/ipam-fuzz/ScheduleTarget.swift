import Foundation
import PublicIPSchedule

/// The public-IP schedule (`PUBLIC_IP_SCHEDULE`, YAML or JSON): a document gives a schedule or every problem
/// found; a schedule answers for any instant. The input's first line also goes to `instant(time:day:)` (the
/// CLI's `--at`/`--day`) as a time and a day.
enum ScheduleTarget: FuzzTarget {
    static let name = "schedule"
    static let dates = [
        Date(timeIntervalSince1970: 1_780_000_000), Date(timeIntervalSince1970: 1_774_746_000),
        Date(timeIntervalSince1970: 0),
    ]
    static let sample: PublicIPSchedule = {
        do {
            return try PublicIPSchedule.parse(
                """
                {"schedule_timezone": "Europe/London", "subscription_id": "s",
                 "vms": {"batch": {"name": "vm-batch", "resource_group": "rg"}}, "public_ips": {"ip": {"name": "pip", "resource_group": "rg"}},
                 "schedule": [{"start": "23:00", "end": "06:00", "vm": "batch", "ip": "ip"}]}
                """)
        } catch { fatalError("the sample schedule does not load: \(error)") }
    }()

    static func run(_ bytes: [UInt8]) {
        let document = text(bytes)
        do {
            let schedule = try PublicIPSchedule.parse(document)
            for date in dates {
                _ = schedule.iso8601(date)
                for assignment in schedule.desired(at: date)
                where schedule.vms[assignment.vm] == nil || schedule.publicIPs[assignment.ip] == nil {
                    violated("assignment \(assignment) names an undeclared vm or ip")
                }
            }
        } catch {
            guard !error.problems.isEmpty else { violated("refused with no problem named") }
        }
        let line =
            document.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let words = line.split(separator: " ", maxSplits: 1).map(String.init)
        for date in dates {
            _ = sample.instant(time: words.first, day: words.count > 1 ? words[1] : nil, now: date)
            _ = sample.instant(time: nil, day: words.first, now: date)
        }
    }
}
