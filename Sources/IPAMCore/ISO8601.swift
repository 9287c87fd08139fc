import Foundation
import StrictJSON

/// RFC 3339 UTC timestamps with milliseconds.
public enum ISO8601 {
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        return ASCIIFormat.utcTimestamp(seconds: seconds, fraction: millis - seconds * 1000, fractionDigits: 3)
    }
}
