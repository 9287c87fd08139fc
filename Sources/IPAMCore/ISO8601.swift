package import Foundation
import StrictJSON

/// RFC 3339 UTC timestamps with milliseconds.
package enum ISO8601 {
    package static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return ASCIIFormat.utcTimestamp(seconds: seconds, fraction: millis - seconds * 1000, fractionDigits: 3)
    }

    /// Parses an RFC 3339 time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t` and a space are accepted for
    /// `T`); nil when it is not one. Parsed by hand: Foundation's formatter is not safe with every input on Linux.
    package static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var value = 0
            for c in chars[from..<(from + count)] {
                guard c >= 48, c <= 57 else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        guard chars.count >= 20, let year = digits(0, 4), chars[4] == 45, let month = digits(5, 2), chars[7] == 45,
            let day = digits(8, 2),
            [84, 116, 32].contains(chars[10]), let hour = digits(11, 2), chars[13] == 58, let minute = digits(14, 2),
            chars[16] == 58,
            let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < chars.count, chars[index] == 46 {
            index += 1
            // The digits as one integer over a power of ten: 0.250 is exactly 0.25, not a sum of rounded tenths.
            var digits = 0
            var places = 0
            while index < chars.count, chars[index] >= 48, chars[index] <= 57, places < 10 {
                digits = digits * 10 + Int(chars[index] - 48)
                places += 1
                index += 1
            }
            guard places > 0, places <= 9 else { return nil }
            fraction = Double(digits) / pow(10, Double(places))
        }
        guard index < chars.count else { return nil }
        var offset = 0
        if chars[index] == 90 || chars[index] == 122 {
            index += 1
        } else if chars[index] == 43 || chars[index] == 45, let h = digits(index + 1, 2), index + 3 < chars.count,
            chars[index + 3] == 58, let m = digits(index + 4, 2), h < 24, m < 60
        {
            offset = (h * 3600 + m * 60) * (chars[index] == 45 ? -1 : 1)
            index += 6
        } else {
            return nil
        }
        guard index == chars.count else { return nil }
        // Days since 1970-01-01 by the civil-from-days inverse (proleptic Gregorian), so no calendar is needed.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        // A day that does not exist in its month (31 April) is refused.
        let monthDays = [
            31, (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
        ]
        guard day <= monthDays[month - 1] else { return nil }
        let seconds = Double(days) * 86_400 + Double(hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }
}
