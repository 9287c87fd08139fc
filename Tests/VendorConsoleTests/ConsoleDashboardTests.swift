import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// The dashboard over HTTP, against storage: the webhook backlog counts the events its webhook wants after its
/// cursor (not the others, not those before it), its dead letters and retries; the days left are the API's.
@Suite("Console dashboard over HTTP")
struct ConsoleDashboardTests {
    static let webhooks = #"""
        [{"name":"ops-hook","url":"http://127.0.0.1:9/hook","secret":"dashboard-hook-secret-0123","events":["released"]}]
        """#
    static let environment = [
        "CONSOLE_SESSION_SECRET": "console-dashboard-secret-0123456789abcdef", "WEBHOOKS_CONFIG": webhooks,
    ]
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")

    @Test("the webhook backlog: wanted events after the cursor, dead letters, retries; none before the cursor")
    func webhookBacklog() async throws {
        let time = ManualTime(start: Date(timeIntervalSince1970: 1_900_000_000))
        try await VendorHarness.withVendor(
            environment: Self.environment, roleKeys: ConsolePoolsTests.keys, time: time.source
        ) { url, table, _ in
            func lease(_ session: String) async throws -> String {
                let made = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)"}"#,
                    headers: ["x-functions-key": "alice-key-1"])
                #expect(made.status == 200 || made.status == 201, "\(made.text)")
                return made.text.firstMatch(of: /"leaseId":"([^"]+)"/).map { String($0.1) } ?? ""
            }
            func release(_ id: String) async throws {
                let answer = try await HTTPCalls.send(
                    "DELETE", url + "/api/leases/\(id)", headers: ["x-functions-key": "alice-key-1"])
                #expect(answer.status < 300, "\(answer.text)")
            }
            // Before the cursor: a lease released (not waiting); after it: three leases, two released.
            try await release(try await lease("before"))
            time.advance(by: .seconds(60))
            let inventory = Inventory(table: table, actor: "dispatcher-test")
            var cursor = WebhookCursor(
                webhook: "ops-hook", scope: Self.scope, lastEvent: RowKeys.eventBoundary(at: time.now))
            cursor.attempts = 2
            #expect(try await inventory.write(cursor) != nil)
            time.advance(by: .seconds(60))
            let ids = [try await lease("a"), try await lease("b"), try await lease("c")]
            try await release(ids[0])
            try await release(ids[1])
            time.advance(by: .seconds(5))
            let cookie = try #require(await ConsolePoolsTests.signIn(url, key: "reader-key-1"))
            let html = try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": cookie]).text
            #expect(
                html.contains(
                    "<p class=\"webhook\" data-webhook=\"ops-hook\">Webhook ops-hook: 2 events waiting, 0 dead letters, 1 scopes retrying.</p>"
                ), "\(html)")
            #expect(html.contains("<span class=\"n\">2 events waiting, 0 dead letters</span>"))
            // One lease is still held: the headline counts it, linking to the leased ones.
            #expect(
                html.contains(
                    "<li class=\"card\" data-state=\"leased\"><a href=\"/console/leases?state=leased\"><span class=\"n\">1</span> leased</a></li>"
                ))
        }
    }
}
