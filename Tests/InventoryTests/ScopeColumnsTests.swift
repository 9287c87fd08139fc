import AzureTables
import Foundation
import IPAMCore
import Inventory
import Testing

/// Rows that name a scope beside its account and region (webhook cursors and dead letters here; host-address
/// heads the same way) keep an AWS scope an AWS scope, and write an Azure scope's exactly as before.
@Suite("A scope's cloud in the rows that name it")
struct ScopeColumnsTests {
    static let azure = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus")
    static let aws = Scope(awsAccountId: "123456789012", region: "us-east-1")

    @Test("a webhook cursor and a dead letter read back in their own cloud; Azure rows carry no Cloud column")
    func roundTrip() throws {
        for scope in [Self.azure, Self.aws] {
            let cursor = WebhookCursor(webhook: "ops", scope: scope, lastEvent: "event_1")
            let entity = cursor.entity()
            #expect((entity["Cloud"]?.stringValue) == (scope.cloud == .aws ? "aws" : nil))
            #expect(entity["Subscription"]?.stringValue == scope.account)
            #expect(WebhookCursor(entity: entity)?.scope == scope)
            let letter = DeadLetter(
                webhook: "ops", scope: scope, eventId: "e", type: "lease", body: "{}", attempts: 3, lastError: "503",
                deadAt: Date(timeIntervalSince1970: 0))
            let stored = letter.entity()
            #expect((stored["Cloud"]?.stringValue) == (scope.cloud == .aws ? "aws" : nil))
            #expect(DeadLetter(entity: stored)?.scope == scope)
            #expect(stored.rowKey.contains(scope.partitionKey))
        }
        // A cloud this version does not know makes the row unreadable, never an Azure scope by mistake.
        var unknown = WebhookCursor(webhook: "ops", scope: Self.aws, lastEvent: "event_1").entity()
        unknown.properties["Cloud"] = .string("gcp")
        #expect(WebhookCursor(entity: unknown) == nil)
    }
}
