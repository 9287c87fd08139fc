import Foundation
import HTTPTransport
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import StrictJSON
import TestSupport
import Testing

/// Webhooks for an AWS scope's events: delivered to a real HTTP receiver on loopback with the AWS scope's
/// members (`"cloud": "aws"`, `accountId`) after `scope`, signed over the body that carries them; an Azure
/// scope's events beside them exactly as before AWS scopes (no `cloud`, no `accountId`).
@Suite("Webhooks for AWS scopes", .serialized)
struct AWSWebhookTests {
    static let secret = "whsec-aws-0123456789abcdef"
    static let account = "123456789012"
    static let azure = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
    static let aws = Scope(awsAccountId: account, region: "us-east-1")

    static func environment(port: Int) -> [String: String] {
        [
            "SUPERNETS_CONFIG": #"""
            [{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16"],"isolated":true}]},
             {"cloud":"aws","accountId":"\#(account)","regions":[{"region":"us-east-1","supernets":["10.64.0.0/16"],"isolated":true}]}]
            """#,
            "POOLS_CONFIG": #"""
            [{"name":"aws-team","accountId":"\#(account)","region":"us-east-1","cidr":"10.64.128.0/17","alerts":{"minFreePercent":50}}]
            """#,
            "WEBHOOKS_CONFIG":
                #"[{"name":"ops","url":"http://127.0.0.1:\#(port)/hook","secret":"\#(secret)","events":["leased","released","space-low"]}]"#,
        ]
    }

    /// The members of a delivery's body, in the order they were written.
    static func names(_ body: [UInt8]) -> [String] {
        ((try? JSONValue.parse(body))?.objectValue ?? []).map(\.0)
    }

    @Test(
        "a lease, its release and a space-low alert in an AWS scope reach a real receiver with cloud and accountId, signed, the body being the API's event; the Azure scope's lease keeps its old body"
    )
    func awsEventsCarryTheirScope() async throws {
        let time = ManualTime(start: Date().addingTimeInterval(-120))
        let receiver = Receiver(secret: Self.secret, now: { time.now })
        try await TestServers.withFakeServer({ await receiver.handle($0) }) { port in
            try await VendorHarness.withVendor(environment: Self.environment(port: port)) { url, table, configuration in
                #expect(Set(configuration.scopes.keys) == [Self.azure, Self.aws])
                let inventory = Inventory(table: table, actor: "dispatcher-aws")
                let dispatcher = WebhookDispatcher(
                    webhooks: configuration.webhooks, scopes: Array(configuration.scopes.keys), inventory: inventory,
                    settings: WebhookSettings(),
                    logger: Logger(label: "webhooks-aws-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                    now: { time.now }, send: Bootstrap.webhookSender(transport: TestStorage.transport))
                _ = await dispatcher.runOnce() // the cursors start here

                let made = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork",
                    body:
                        #"{"SessionId":"wh-aws","prefixLength":24,"accountId":"\#(Self.account)","region":"us-east-1"}"#
                )
                let azureMade = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"wh-azure","prefixLength":24}"#)
                #expect(made.status == 201 && azureMade.status == 201, "\(made.text) \(azureMade.text)")
                let leaseId = try #require(made.string("leaseId"))
                let azureLeaseId = try #require(azureMade.string("leaseId"))
                let released = try await HTTPCalls.send(
                    "POST", url + "/api/releaseNetwork",
                    body: #"{"SessionId":"wh-aws","accountId":"\#(Self.account)","region":"us-east-1"}"#)
                #expect(released.status == 200, "\(released.text)")
                // The Manager's low-space alert for the AWS pool, written as SpaceAlerts writes it.
                let low = SpaceAlertState(
                    pool: "aws-team", version: .v4, low: true, since: Date(),
                    reasons: "pool aws-team (IPv4) is low: 12.5% free (below 50.0%)")
                #expect(
                    try await Inventory(table: table, actor: "manager-test").recordSpaceAlert(
                        low, over: nil, cidr: "10.64.128.0/17", in: Self.aws, now: Date()))

                time.set(Date().addingTimeInterval(60)) // past the settle delay
                for _ in 0..<3 { _ = await dispatcher.runOnce() }

                let deliveries = receiver.deliveries
                #expect(deliveries.allSatisfy { $0.accepted && $0.signed }, "every delivery accepted and signed")
                let bodies = deliveries.map { (delivery: $0, json: try? JSONValue.parse($0.body)) }
                let awsBodies = bodies.filter { $0.json?["scope"]?.stringValue == Self.aws.partitionKey }
                let azureBodies = bodies.filter { $0.json?["scope"]?.stringValue == Self.azure.partitionKey }
                #expect(awsBodies.map { $0.json?["type"]?.stringValue } == ["leased", "released", "space-low"])
                #expect(azureBodies.map { $0.json?["type"]?.stringValue } == ["leased"])

                let awsMembers = [
                    "type", "webhook", "id", "at", "action", "actor", "scope", "cloud", "accountId", "cidr", "cidrV6",
                    "leaseId", "sessionId", "before", "after", "detail", "requestId", "process",
                ]
                for (delivery, json) in awsBodies {
                    #expect(
                        Self.names(delivery.body) == awsMembers, "\(String(decoding: delivery.body, as: UTF8.self))")
                    #expect(json?["cloud"]?.stringValue == "aws" && json?["accountId"]?.stringValue == Self.account)
                    #expect(json?["webhook"]?.stringValue == "ops")
                    // Signed over exactly these bytes: the same body naming another account fails the check.
                    #expect(
                        WebhookSignature.verdict(
                            delivery.signature, body: delivery.body, secret: Self.secret, now: time.now) == .valid)
                    let forged = Array(
                        String(decoding: delivery.body, as: UTF8.self)
                            .replacingOccurrences(of: Self.account, with: "210987654321").utf8)
                    #expect(
                        WebhookSignature.verdict(delivery.signature, body: forged, secret: Self.secret, now: time.now)
                            == .badSignature)
                }
                let leased = try #require(awsBodies.first?.json)
                #expect(leased["leaseId"]?.stringValue == leaseId && leased["sessionId"]?.stringValue == "wh-aws")
                #expect(leased["cidr"]?.stringValue == made.string("cidr"))
                let alert = try #require(awsBodies.last?.json)
                #expect(alert["action"]?.stringValue == "space-low" && alert["cidr"]?.stringValue == "10.64.128.0/17")
                #expect(alert["detail"]?.stringValue == low.reasons && alert["leaseId"] == .null)

                // The Azure scope's delivery: the members it always had, no cloud, no account, no subscription.
                let azureBody = try #require(azureBodies.first)
                #expect(Self.names(azureBody.delivery.body) == awsMembers.filter { $0 != "cloud" && $0 != "accountId" })
                #expect(azureBody.json?["leaseId"]?.stringValue == azureLeaseId)

                // A delivery's body is the API's event (GET /api/events) after `type` and `webhook`, member for member.
                let listed = try await HTTPCalls.send(
                    "GET", url + "/api/events?accountId=\(Self.account)&region=us-east-1&leaseId=\(leaseId)")
                let events = try #require(listed.json?["events"]?.arrayValue, "\(listed.text)")
                let delivered = try #require(leased.objectValue).filter { $0.0 != "type" && $0.0 != "webhook" }
                #expect(events.contains { $0 == .object(delivered) }, "\(listed.text)") // members in order
            }
        }
    }
}
