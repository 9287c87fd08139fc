import Foundation
import IPAMCore
import Testing

@Suite("RFC 3339 times")
struct ISO8601Tests {
    @Test(
        "known times, offsets and fractions",
        arguments: [
            ("1970-01-01T00:00:00Z", 0.0), ("2026-12-01T10:00:00Z", 1_796_119_200),
            ("2026-12-01T11:00:00+01:00", 1_796_119_200),
            ("2026-12-01T05:30:00-04:30", 1_796_119_200), ("2026-12-01T10:00:00.250Z", 1_796_119_200.25),
            ("2000-02-29T00:00:00z", 951_782_400),
            ("1969-12-31T23:59:59Z", -1), ("0209-04-07T19:22:44-20:17", -55_563_351_616),
        ])
    func known(_ text: String, _ seconds: Double) throws {
        let date = try #require(ISO8601.parse(text), "\(text)")
        #expect(Self.milliseconds(date) == Int64(seconds * 1000), "\(text): \(date.timeIntervalSince1970)")
    }

    /// A parsed time in whole milliseconds (the precision the texts carry).
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    @Test(
        "not RFC 3339",
        arguments: [
            "", "yesterday", "2026-12-01", "2026-12-01T10:00:00", "2026-13-01T10:00:00Z", "2026-04-31T10:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z", "2026-12-01T10:00:00+1:00", "2026-12-01T10:00:00.Z", "2026-12-01T10:00:00Zjunk",
            "２０２６-12-01T10:00:00Z",
        ])
    func refused(_ text: String) {
        #expect(ISO8601.parse(text) == nil, "\(text)")
    }

    @Test("what format writes, parse reads back (to the millisecond), over four centuries")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let millis = Int64.random(in: -2_208_988_800_000...10_413_792_000_000, using: &generator) // 1900 to 2300
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            let text = ISO8601.format(date)
            // format writes whole milliseconds, rounded down: parse reads back exactly those.
            let written = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
            #expect(ISO8601.parse(text).map(Self.milliseconds) == written, "\(text)")
        }
    }
}
