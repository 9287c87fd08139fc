import AWSClient
import Foundation
import HTTPTransport
import IPAMCore
import Logging
import ManagerJobs
import TableEmulator
import TestSupport
import Testing

/// AWS's discovery against moto_server (AWS's API emulator, a real EC2 Query API on loopback) and against scripted
/// EC2 error answers: every VPC and associated CIDR with its tags, and each failure making only its own account and
/// region incomplete.
@Suite("EC2 discovery", .enabled(if: MotoServer.shouldRun, "moto_server is not installed (scripts/setup-python)"))
struct EC2DiscoveryTests {
    /// moto's default account: the owner of what it creates with any keys.
    static let account = "123456789012"
    static let keys = StaticCredentialsProvider(AWSCredentials(accessKeyId: "AKIDTEST", secretAccessKey: "secret"))
    /// Two attempts, no waiting: failures come at once.
    static let retry = AWSRetryPolicy(maximumAttempts: 2, sleep: { _ in }, random: { 0 })
    static let quiet = Logger(label: "ec2-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func client(_ endpoint: String, region: String, account: String = account) -> EC2Client {
        EC2Client(
            account: account, region: region, endpoint: endpoint, credentials: keys, transport: TestStorage.transport,
            retry: retry)
    }

    /// Creates a VPC in moto (EC2 `CreateVpc`, tags given at creation as Terraform's provider does); its id.
    static func createVpc(
        _ moto: MotoServer, region: String, cidr: String, ipv6: Bool = false, tags: [String: String] = [:]
    ) async throws -> String {
        var parameters: [(name: String, value: String)] = [("Action", "CreateVpc"), ("CidrBlock", cidr)]
        if ipv6 { parameters.append(("AmazonProvidedIpv6CidrBlock", "true")) }
        if !tags.isEmpty {
            parameters.append(("TagSpecification.1.ResourceType", "vpc"))
            for (index, key) in tags.keys.sorted().enumerated() {
                parameters.append(("TagSpecification.1.Tag.\(index + 1).Key", key))
                parameters.append(("TagSpecification.1.Tag.\(index + 1).Value", tags[key]!))
            }
        }
        let answer = try await client(moto.url, region: region).call(parameters)
        return try #require(answer.child("vpc")?.childText("vpcId"))
    }

    /// Deletes a VPC in moto (EC2 `DeleteVpc`).
    static func deleteVpc(_ moto: MotoServer, region: String, id: String) async throws {
        _ = try await client(moto.url, region: region).call([("Action", "DeleteVpc"), ("VpcId", id)])
    }

    @Test(
        "every VPC of each account and region, every associated IPv4 and IPv6 CIDR, tags; a region whose endpoint is closed is incomplete (named), the others complete"
    )
    func listsAndFailsPerRegion() async throws {
        try await MotoServer.with { moto in
            let tagged = try await Self.createVpc(
                moto, region: "us-east-1", cidr: "10.1.0.0/24", ipv6: true,
                tags: [LeaseTag.name: "lease-1", "Name": "env-a"])
            let plain = try await Self.createVpc(moto, region: "us-east-1", cidr: "10.1.1.0/24")
            let west = try await Self.createVpc(moto, region: "eu-west-1", cidr: "10.2.0.0/24")
            let closed = try MotoServer.freePort()
            let discovery = EC2Discovery(
                clients: [
                    Self.client(moto.url, region: "us-east-1"), Self.client(moto.url, region: "eu-west-1"),
                    Self.client("http://127.0.0.1:\(closed)", region: "us-west-2"),
                ], logger: Self.quiet)
            let east = EC2Discovery.scope(account: Self.account, region: "us-east-1")
            let euWest = EC2Discovery.scope(account: Self.account, region: "eu-west-1")
            let usWest = EC2Discovery.scope(account: Self.account, region: "us-west-2")
            #expect(discovery.lists(east) && discovery.lists(usWest))
            #expect(!discovery.lists(EC2Discovery.scope(account: "210987654321", region: "us-east-1")))
            let listing = await discovery.discover([east, euWest, usWest])
            #expect(listing.isComplete(east) && listing.isComplete(euWest))
            #expect(!listing.isComplete(usWest) && !listing.isComplete)
            #expect(
                listing.incomplete[usWest]?.first?.contains("AWS account \(Self.account) region us-west-2") == true,
                "\(listing.problems)")
            let byId = Dictionary(uniqueKeysWithValues: listing.networks.map { ($0.id, $0) })
            let first = try #require(byId[tagged])
            #expect(first.provider == .aws && first.account == Self.account && first.region == "us-east-1")
            #expect(first.prefixes.first == "10.1.0.0/24")
            #expect(first.prefixes.count == 2 && first.prefixes[1].contains(":"), "the IPv6 block too: \(first)")
            #expect(first.tags == [LeaseTag.name: "lease-1", "Name": "env-a"])
            #expect(byId[plain]?.prefixes == ["10.1.1.0/24"] && byId[plain]?.tags == [:])
            #expect(byId[west]?.region == "eu-west-1")
            #expect(listing.networks.allSatisfy { $0.region != "us-west-2" })
            // Deleted: gone from the next listing.
            try await Self.deleteVpc(moto, region: "us-east-1", id: plain)
            let again = await discovery.discover([east])
            #expect(again.isComplete && !again.networks.contains { $0.id == plain })
        }
    }

    static let scriptedCodes: [(code: String, status: Int)] = [
        ("AuthFailure", 401), ("UnauthorizedOperation", 403), ("OptInRequired", 401), ("RequestLimitExceeded", 503),
    ]

    @Test(
        "AuthFailure, UnauthorizedOperation, OptInRequired (a region not enabled), throttling past the retries: that account and region incomplete, the error named; a VPC another account owns is not this account's",
        arguments: [0, 1, 2, 3])
    func errorsMakeTheirRegionIncomplete(_ index: Int) async throws {
        let (code, status) = Self.scriptedCodes[index]
        let failing: @Sendable (EmulatorRequest) async -> EmulatorResponse = { _ in
            EmulatorResponse(
                status: status, headers: ["Content-Type": "text/xml"],
                body: Array(
                    "<Response><Errors><Error><Code>\(code)</Code><Message>scripted</Message></Error></Errors><RequestID>r</RequestID></Response>"
                        .utf8))
        }
        let shared: @Sendable (EmulatorRequest) async -> EmulatorResponse = { _ in
            EmulatorResponse(
                status: 200, headers: ["Content-Type": "text/xml"],
                body: Array(
                    """
                    <DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet>\
                    <item><vpcId>vpc-own</vpcId><ownerId>\(Self.account)</ownerId><cidrBlock>10.3.0.0/24</cidrBlock>\
                    <cidrBlockAssociationSet><item><cidrBlock>10.3.0.0/24</cidrBlock><cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet></item>\
                    <item><vpcId>vpc-shared</vpcId><ownerId>210987654321</ownerId><cidrBlock>10.4.0.0/24</cidrBlock>\
                    <cidrBlockAssociationSet><item><cidrBlock>10.4.0.0/24</cidrBlock><cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet></item>\
                    </vpcSet></DescribeVpcsResponse>
                    """.utf8))
        }
        try await TestServers.withFakeServer(failing) { bad in
            try await TestServers.withFakeServer(shared) { good in
                let discovery = EC2Discovery(
                    clients: [
                        Self.client("http://127.0.0.1:\(bad)", region: "ap-south-2"),
                        Self.client("http://127.0.0.1:\(good)", region: "us-east-1"),
                    ], logger: Self.quiet)
                let failed = EC2Discovery.scope(account: Self.account, region: "ap-south-2")
                let fine = EC2Discovery.scope(account: Self.account, region: "us-east-1")
                let listing = await discovery.discover([failed, fine])
                #expect(listing.incomplete.keys.sorted() == [failed])
                let reason = try #require(listing.incomplete[failed]?.first)
                #expect(
                    reason.contains("AWS account \(Self.account) region ap-south-2") && reason.contains(code),
                    "\(reason)")
                #expect(listing.networks.map(\.id) == ["vpc-own"], "a shared VPC is its owner's")
            }
        }
    }
}
