import Foundation
import StrictJSON

/// RFC 3339 UTC timestamps with milliseconds.
public enum ISO8601 {
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return ASCIIFormat.utcTimestamp(seconds: seconds, fraction: millis - seconds * 1000, fractionDigits: 3)
    }

    /// Parses an RFC 3339 time with an offset (`Z` or `±HH:MM`), with or without fractional seconds; nil when
    /// it is not one.
    public static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
