import Foundation
import IPAMCore
import Testing

/// `ipam-signature` checks: the HMAC over the body, and a timestamp within the tolerance of the receiver's clock
/// (passed in: these tests never read the wall clock), so a captured delivery cannot be replayed later.
@Suite("Webhook signatures")
struct WebhookSignatureTests {
    static let secret = "whsec-0123456789abcdef"
    static let body = Array(#"{"type":"leased","id":"event_1"}"#.utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// A correctly signed header for `body` with the timestamp `t` (what an attacker replaying a capture holds).
    static func header(t: Int64) -> String {
        WebhookSignature.sign(body: body, secret: secret, at: Date(timeIntervalSince1970: Double(t)))
    }

    @Test(
        "a timestamp within 5 minutes either way is accepted; 30 days ago, zero, negative or far ahead is refused as stale"
    )
    func replayWindow() {
        let t = Int64(Self.now.timeIntervalSince1970)
        for accepted in [t, t - 300, t + 300, t - 299, t + 120] {
            #expect(
                WebhookSignature.verdict(Self.header(t: accepted), body: Self.body, secret: Self.secret, now: Self.now)
                    == .valid, "t=\(accepted)")
        }
        for refused in [t - 30 * 86400, 0, -5, t - 301, t + 301, t + 86400, -9_000_000_000_000, 9_000_000_000_000] {
            #expect(
                WebhookSignature.verdict(Self.header(t: refused), body: Self.body, secret: Self.secret, now: Self.now)
                    == .staleTimestamp, "t=\(refused)")
            #expect(
                !WebhookSignature.verify(Self.header(t: refused), body: Self.body, secret: Self.secret, now: Self.now),
                "t=\(refused)")
        }
    }

    @Test("the tolerance is the receiver's to choose")
    func configurableTolerance() {
        let t = Int64(Self.now.timeIntervalSince1970)
        #expect(
            !WebhookSignature.verify(
                Self.header(t: t - 61), body: Self.body, secret: Self.secret, now: Self.now, tolerance: 60))
        #expect(
            WebhookSignature.verify(
                Self.header(t: t - 60), body: Self.body, secret: Self.secret, now: Self.now, tolerance: 60))
        #expect(
            WebhookSignature.verify(
                Self.header(t: t - 3000), body: Self.body, secret: Self.secret, now: Self.now, tolerance: 3600))
    }

    @Test(
        "a wrong secret, another body, a changed timestamp or a malformed header is a bad signature, whatever the time")
    func badSignatures() {
        let t = Int64(Self.now.timeIntervalSince1970)
        let good = Self.header(t: t)
        #expect(
            WebhookSignature.verdict(good, body: Self.body, secret: "another-secret-0123456", now: Self.now)
                == .badSignature)
        #expect(
            WebhookSignature.verdict(good, body: Array("{}".utf8), secret: Self.secret, now: Self.now) == .badSignature)
        let moved = good.replacingOccurrences(of: "t=\(t)", with: "t=\(t + 1)")
        #expect(
            WebhookSignature.verdict(moved, body: Self.body, secret: Self.secret, now: Self.now) == .badSignature,
            "the timestamp is signed too")
        for header in [
            "", "t=\(t)", "v1=abc", "t=x,v1=" + String(repeating: "0", count: 64), "garbage", "t=\(Int64.max),v1=00",
            "t=\(Int64.min),v1=00",
        ] {
            #expect(
                WebhookSignature.verdict(header, body: Self.body, secret: Self.secret, now: Self.now) == .badSignature,
                "\(header)")
        }
    }

    @Test(
        "recent event ids: a duplicate is reported once seen; memory holds at most the capacity, the oldest forgotten first"
    )
    func recentEventIDs() {
        var recent = RecentEventIDs(capacity: 3)
        func insert(_ ids: String...) -> [Bool] { ids.map { recent.insert($0) } }
        #expect(insert("a", "b", "c") == [true, true, true])
        #expect(insert("a", "c") == [false, false], "duplicates")
        #expect(insert("d") == [true] && recent.count == 3, "a fourth id pushes out the oldest")
        #expect(insert("a") == [true], "a was forgotten")
        #expect(insert("d") == [false] && recent.count == 3)
        for index in 0..<10_000 { _ = recent.insert("id-\(index)") }
        #expect(recent.count == 3)
        #expect(insert("id-9999", "id-0") == [false, true])
    }
}
