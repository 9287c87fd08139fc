import Foundation
import HTTPTransport
import IPAMCore
import StrictJSON
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// `GET /api/events`: the audit trail over HTTP, with the caller and the request id of every change.
@Suite("Audit API")
struct EventListingTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "ci=ci-key-1,dev=dev-key-1", admin: nil)

    static func post(_ url: String, _ path: String, key: String, _ body: String, requestId: String? = nil) async throws
        -> HTTPAnswer
    {
        var headers: HTTPHeaderList = ["x-functions-key": key]
        if let requestId { headers["x-request-id"] = requestId }
        return try await HTTPCalls.send("POST", url + path, body: body, headers: headers)
    }

    static func events(_ url: String, _ query: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send(
            "GET", url + "/api/events" + (query.isEmpty ? "" : "?" + query),
            headers: ["x-functions-key": "reader-key-1"])
    }

    @Test(
        "every change names its caller and request id; newest first; filters by action, lease, actor and time; pages with a continuation; bad queries refused"
    )
    func listing() async throws {
        let time = ManualTime()
        try await VendorHarness.withVendor(roleKeys: Self.keys, time: time.source) { url, _, _ in
            let first = try await Self.post(
                url, "/api/getNewNetwork", key: "ci-key-1", #"{"SessionId":"ev-1"}"#, requestId: "req-first")
            let leaseId = try #require(first.string("leaseId"))
            // event keys order by time: the clock the Vendor writes with moves between the changes
            time.advance(by: .seconds(1))
            let middle = time.now
            _ = try await Self.post(
                url, "/api/getNewNetwork", key: "dev-key-1", #"{"SessionId":"ev-2"}"#, requestId: "req-second")
            time.advance(by: .seconds(1))
            _ = try await Self.post(
                url, "/api/releaseNetwork", key: "ci-key-1", #"{"SessionId":"ev-1"}"#, requestId: "req-third")

            let all = try await Self.events(url, "region=eastus&action=lease&action=carve-lease&action=release")
            #expect(all.status == 200, "\(all.text)")
            let items = all.json?["events"]?.arrayValue ?? []
            #expect(
                items.map { $0["requestId"]?.stringValue } == ["req-third", "req-second", "req-first"],
                "newest first: \(all.text)")
            #expect(items.map { $0["actor"]?.stringValue } == ["ci", "dev", "ci"], "the caller, by its key's name")
            #expect(items[0]["before"]?.stringValue == "leased" && items[0]["after"]?.stringValue == "quarantined")
            #expect(items[0]["process"]?.stringValue == "vendor-test")

            let byLease = try await Self.events(url, "leaseId=\(leaseId)")
            #expect(
                byLease.json?["events"]?.arrayValue?.map { $0["action"]?.stringValue ?? "" }.filter { $0 != "stock" }
                    .count == 2)
            let byActor = try await Self.events(url, "actor=dev&action=lease,carve-lease")
            #expect(byActor.json?["events"]?.arrayValue?.count == 1)
            let since = try await Self.events(url, "since=\(ISO8601.format(middle))&action=lease,carve-lease,release")
            #expect(
                since.json?["events"]?.arrayValue?.map { $0["requestId"]?.stringValue } == ["req-third", "req-second"],
                "\(since.text)")
            let until = try await Self.events(url, "until=\(ISO8601.format(middle))&action=lease,carve-lease,release")
            #expect(until.json?["events"]?.arrayValue?.map { $0["requestId"]?.stringValue } == ["req-first"])

            var seen: [String] = []
            var continuation: String? = nil
            repeat {
                let page = try await Self.events(
                    url, "limit=1&action=lease,carve-lease,release" + (continuation.map { "&continuation=\($0)" } ?? "")
                )
                seen += page.json?["events"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                continuation = page.json?["continuation"]?.stringValue
            } while continuation != nil && seen.count < 10
            #expect(seen.count == 3 && Set(seen).count == 3, "\(seen)")

            for (query, code) in [
                ("action=nope", "InvalidQuery"), ("since=yesterday", "InvalidQuery"), ("leaseId=x", "InvalidQuery"),
                ("limit=0", "InvalidQuery"),
                ("continuation=v1.bm9wZQ", "InvalidContinuation"), ("region=mars", "UnknownScope"),
                ("colour=red", "InvalidQuery"),
            ] {
                #expect(try await Self.events(url, query).code == code, "\(query)")
            }
            // Any date a filter names is answered (keys hold 1970–2262: dates outside are clamped, never a crash).
            for query in [
                "since=0209-04-07T19:22:44-20:17", "until=9999-12-31T23:59:59Z",
                "since=1969-01-01T00:00:00Z&until=1969-06-01T00:00:00Z",
            ] {
                #expect(try await Self.events(url, query).status == 200, "\(query)")
            }
            // A lease listing's continuation is no event listing's.
            let leases = try await HTTPCalls.send(
                "GET", url + "/api/leases?limit=1", headers: ["x-functions-key": "reader-key-1"])
            let leaseToken = try #require(leases.json?["continuation"]?.stringValue)
            #expect(try await Self.events(url, "continuation=\(leaseToken)").code == "InvalidContinuation")
        }
    }

    @Test("AUDIT_REDACT_ACTORS: events name the caller by its keyed hash")
    func redacted() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys, redactActors: true) { url, _, _ in
            _ = try await Self.post(url, "/api/getNewNetwork", key: "ci-key-1", #"{"SessionId":"ev-r"}"#)
            let events = try await Self.events(url, "action=lease,carve-lease")
            let actor = try #require(events.json?["events"]?.arrayValue?.first?["actor"]?.stringValue)
            #expect(
                actor == PrincipalRedactor(salt: SampleConfiguration.auditSalt).principal("ci").key
                    && !actor.contains("ci"), "\(actor)")
            #expect(
                try await Self.events(url, "actor=\(actor)").json?["events"]?.arrayValue?.isEmpty == false,
                "correlation still works")
        }
    }
}
