package import Foundation

/// A 6-field NCRONTAB schedule (`{second} {minute} {hour} {day} {month} {day-of-week}`), as Azure
/// Functions timer triggers use, evaluated in UTC.
///
/// Fields take `*`, `n`, `a-b`, `*/s`, `a-b/s` and comma lists; months `Jan`–`Dec` and days `Sun`–`Sat`
/// by name too (day-of-week 0–6, Sunday = 0; 7 is also Sunday). When both day-of-month and day-of-week
/// are restricted, a time must match both (NCrontab's rule, unlike Vixie cron's "either").
package struct NCrontab: Sendable, Equatable, CustomStringConvertible {
    package let expression: String
    let seconds: Set<Int>, minutes: Set<Int>, hours: Set<Int>, days: Set<Int>, months: Set<Int>, weekdays: Set<Int>

    package struct ParseError: Error, Sendable, CustomStringConvertible {
        package let message: String
        package var description: String { message }
    }

    package init(_ expression: String) throws(ParseError) {
        let fields = expression.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 6 else {
            throw ParseError(
                message:
                    "'\(expression)' has \(fields.count) fields; NCRONTAB needs 6: second minute hour day month day-of-week"
            )
        }
        self.expression = expression
        seconds = try Self.field(fields[0], "second", 0...59)
        minutes = try Self.field(fields[1], "minute", 0...59)
        hours = try Self.field(fields[2], "hour", 0...23)
        days = try Self.field(fields[3], "day", 1...31)
        months = try Self.field(
            fields[4], "month", 1...12,
            names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], firstName: 1)
        var dow = try Self.field(
            fields[5], "day-of-week", 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], firstName: 0)
        if dow.remove(7) != nil { dow.insert(0) }
        weekdays = dow
    }

    package var description: String { expression }

    static func field(
        _ text: String, _ name: String, _ range: ClosedRange<Int>, names: [String] = [], firstName: Int = 0
    ) throws(ParseError) -> Set<Int> {
        func value(_ token: Substring) throws(ParseError) -> Int {
            if let number = Int(token), range.contains(number) { return number }
            if let index = names.firstIndex(of: token.lowercased()) { return index + firstName }
            throw ParseError(
                message: "\(name) field '\(text)': '\(token)' is not in \(range.lowerBound)–\(range.upperBound)")
        }
        var result = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else {
                throw ParseError(message: "\(name) field '\(text)' is malformed")
            }
            var step = 1
            if pieces.count == 2 {
                guard let s = Int(pieces[1]), s > 0 else {
                    throw ParseError(message: "\(name) field '\(text)': bad step")
                }
                step = s
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                let low = try value(pieces[0][..<dash])
                let high = try value(pieces[0][pieces[0].index(after: dash)...])
                guard low <= high else { throw ParseError(message: "\(name) field '\(text)': range runs backwards") }
                bounds = low...high
            } else {
                let single = try value(pieces[0])
                bounds = single...(pieces.count == 2 ? range.upperBound : single)
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }

    /// The first time strictly after `date` that matches, or nil if none within 5 years.
    package func next(after date: Date) -> Date? {
        var time = time_t(date.timeIntervalSince1970.rounded(.down)) + 1
        let limit = time + 5 * 366 * 86_400
        var parts = tm()
        while time < limit {
            gmtime_r(&time, &parts)
            if !months.contains(Int(parts.tm_mon) + 1) {
                parts.tm_mon += 1
                parts.tm_mday = 1
                parts.tm_hour = 0
                parts.tm_min = 0
                parts.tm_sec = 0
            } else if !days.contains(Int(parts.tm_mday)) || !weekdays.contains(Int(parts.tm_wday)) {
                parts.tm_mday += 1
                parts.tm_hour = 0
                parts.tm_min = 0
                parts.tm_sec = 0
            } else if !hours.contains(Int(parts.tm_hour)) {
                parts.tm_hour += 1
                parts.tm_min = 0
                parts.tm_sec = 0
            } else if !minutes.contains(Int(parts.tm_min)) {
                parts.tm_min += 1
                parts.tm_sec = 0
            } else if !seconds.contains(Int(parts.tm_sec)) {
                parts.tm_sec += 1
            } else {
                return Date(timeIntervalSince1970: Double(time))
            }
            time = timegm(&parts)
        }
        return nil
    }
}
