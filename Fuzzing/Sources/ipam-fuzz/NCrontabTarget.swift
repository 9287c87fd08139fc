import Foundation
import IPAMCore

/// NCRONTAB schedules of the Manager's timers (operator settings): text gives a schedule or a `ParseError`; a
/// schedule prints as the text it was read from, and the time `next(after:)` finds is later than the start and
/// is found again from just before it (the search neither skips nor invents a time).
enum NCrontabTarget: FuzzTarget {
    static let name = "ncrontab"
    static let start = Date(timeIntervalSince1970: 1_780_000_000.25)

    static func run(_ bytes: [UInt8]) {
        let expression = text(bytes)
        let schedule: NCrontab
        do { schedule = try NCrontab(expression) } catch {
            guard !error.message.isEmpty else { violated("refused without a message") }
            return
        }
        guard schedule.description == expression, (try? NCrontab(schedule.description)) == schedule else {
            violated("print/parse round trip")
        }
        guard let next = schedule.next(after: start) else { return }
        guard next > start else { violated("next(after: \(start)) = \(next)") }
        guard schedule.next(after: next.addingTimeInterval(-1)) == next else {
            violated("\(next) is not found again from a second before")
        }
    }
}
