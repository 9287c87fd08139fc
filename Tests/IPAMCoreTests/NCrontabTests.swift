import Foundation
import IPAMCore
import Testing

@Suite("NCRONTAB schedules")
struct NCrontabTests {
    static func date(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text)!
    }

    @Test(
        "known schedules",
        arguments: [
            ("0 */15 * * * *", "2026-11-25T10:07:30Z", "2026-11-25T10:15:00Z"),
            ("0 */15 * * * *", "2026-11-25T10:15:00Z", "2026-11-25T10:30:00Z"),
            ("0 */5 * * * *", "2026-11-25T23:58:00Z", "2026-11-26T00:00:00Z"),
            ("*/10 * * * * *", "2026-11-25T10:00:05Z", "2026-11-25T10:00:10Z"),
            ("0 30 9 * * 1-5", "2026-11-27T10:00:00Z", "2026-11-30T09:30:00Z"), // Friday after 9:30 -> Monday
            ("0 30 9 * * Mon-Fri", "2026-11-28T08:00:00Z", "2026-11-30T09:30:00Z"),
            ("0 0 0 1 Jan *", "2026-11-25T00:00:00Z", "2027-01-01T00:00:00Z"),
            ("0 0 12 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T12:00:00Z"), // leap day
            ("5,10 0 0 * * *", "2026-11-25T00:00:05Z", "2026-11-25T00:00:10Z"),
            ("0 0 0 * * 7", "2026-11-25T00:00:00Z", "2026-11-29T00:00:00Z"), // 7 = Sunday
            ("0 0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-02-13T00:00:00Z"), // Friday the 13th: both must match
        ])
    func next(expression: String, after: String, expected: String) throws {
        let schedule = try NCrontab(expression)
        #expect(schedule.next(after: Self.date(after)) == Self.date(expected))
    }

    @Test(
        "bad expressions are refused with the field named",
        arguments: [
            ("*/15 * * * *", "6"), ("60 * * * * *", "second"), ("0 0 24 * * *", "hour"), ("0 0 0 0 * *", "day"),
            ("0 0 0 * 13 *", "month"), ("0 0 0 * * 8", "day-of-week"), ("0 5-1 * * * *", "minute"),
            ("0 */0 * * * *", "minute"),
        ])
    func bad(expression: String, mentions: String) {
        do {
            _ = try NCrontab(expression)
            Issue.record("\(expression) must be refused")
        } catch {
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }
}
