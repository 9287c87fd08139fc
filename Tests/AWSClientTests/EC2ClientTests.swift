import AWSClient
import Foundation
import HTTPTransport
import Synchronization
import Testing

/// A transport that answers from a script and records what it was sent (no sockets, no clock).
final class ScriptedTransport: HTTPTransport {
    enum Step {
        case answer(Int, String)
        case unreachable
    }

    private let state: Mutex<(steps: [Step], requests: [TransportRequest])>

    init(_ steps: [Step]) { state = Mutex((steps, [])) }

    var requests: [TransportRequest] { state.withLock { $0.requests } }

    func execute(_ request: TransportRequest) async throws -> TransportResponse {
        let step = state.withLock { state -> Step? in
            state.requests.append(request)
            return state.steps.isEmpty ? nil : state.steps.removeFirst()
        }
        switch step {
        case .answer(let status, let body)?:
            return TransportResponse(status: status, headers: [:], body: Array(body.utf8))
        case .unreachable?, nil: throw TransportError.connectionRefused("refused by the script")
        }
    }
}

/// The waits the client asked for, instead of waiting.
final class RecordedSleeps: Sendable {
    private let sleeps = Mutex<[Duration]>([])
    var all: [Duration] { sleeps.withLock { $0 } }
    func record(_ duration: Duration) { sleeps.withLock { $0.append(duration) } }
}

@Suite("EC2 DescribeVpcs: paging, associations, tags, errors and retries")
struct EC2ClientTests {
    static let account = "123456789012"
    static let credentials = AWSCredentials(accessKeyId: "AKIDTEST", secretAccessKey: "secret", sessionToken: "tok")
    static let fixedDate = Date(timeIntervalSince1970: 1_700_000_000)

    static func client(
        _ transport: ScriptedTransport, sleeps: RecordedSleeps = RecordedSleeps(), attempts: Int = 4,
        random: Double = 1, pageSize: Int = 5
    ) -> EC2Client {
        EC2Client(
            account: account, region: "eu-west-1", endpoint: "http://127.0.0.1:5000/",
            credentials: StaticCredentialsProvider(credentials), transport: transport,
            retry: AWSRetryPolicy(
                maximumAttempts: attempts, baseDelay: .milliseconds(100), maximumDelay: .milliseconds(350),
                sleep: { sleeps.record($0) }, random: { random }),
            pageSize: pageSize, now: { fixedDate })
    }

    static func vpcItem(
        _ id: String, ipv4: [(String, String)] = [("10.0.0.0/16", "associated")], ipv6: [(String, String)] = [],
        tags: [(String, String)] = []
    ) -> String {
        let v4 = ipv4.map {
            "<item><cidrBlock>\($0.0)</cidrBlock><associationId>a</associationId><cidrBlockState><state>\($0.1)</state></cidrBlockState></item>"
        }.joined()
        let v6 = ipv6.map {
            "<item><ipv6CidrBlock>\($0.0)</ipv6CidrBlock><ipv6CidrBlockState><state>\($0.1)</state></ipv6CidrBlockState></item>"
        }.joined()
        let tagItems = tags.map { "<item><key>\($0.0)</key><value>\($0.1)</value></item>" }.joined()
        return """
            <item><vpcId>\(id)</vpcId><ownerId>\(account)</ownerId><state>available</state>\
            <cidrBlock>\(ipv4.first?.0 ?? "")</cidrBlock><cidrBlockAssociationSet>\(v4)</cidrBlockAssociationSet>\
            <ipv6CidrBlockAssociationSet>\(v6)</ipv6CidrBlockAssociationSet><tagSet>\(tagItems)</tagSet></item>
            """
    }

    static func page(_ items: [String], next: String? = nil) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>\
        <vpcSet>\(items.joined())</vpcSet>\(next.map { "<nextToken>\($0)</nextToken>" } ?? "")</DescribeVpcsResponse>
        """
    }

    static func error(_ code: String, _ message: String = "message") -> String {
        "<?xml version=\"1.0\"?><Response><Errors><Error><Code>\(code)</Code><Message>\(message)</Message></Error></Errors><RequestID>r</RequestID></Response>"
    }

    static func form(_ request: TransportRequest) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: request.body ?? [], as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            fields[parts[0].removingPercentEncoding!] = parts.count > 1 ? parts[1].removingPercentEncoding! : ""
        }
        return fields
    }

    @Test("follows NextToken to the last page; only associated blocks; tags; signed form POSTs")
    func paging() async throws {
        let transport = ScriptedTransport([
            .answer(
                200,
                Self.page(
                    [
                        Self.vpcItem(
                            "vpc-1",
                            ipv4: [
                                ("10.0.0.0/16", "associated"), ("10.1.0.0/16", "disassociated"),
                                ("10.2.0.0/16", "associated"), ("10.3.0.0/16", "associating"),
                            ],
                            ipv6: [("2600:1f18::/56", "associated"), ("2600:1f19::/56", "disassociated")],
                            tags: [("ipam-lease-id", "lease-1"), ("Name", "a &amp; b")]),
                        Self.vpcItem("vpc-2"),
                    ], next: "token/+=1")),
            .answer(200, Self.page([Self.vpcItem("vpc-3", ipv4: [("10.9.0.0/24", "associated")])])),
        ])
        let vpcs = try await Self.client(transport).describeVpcs()
        #expect(
            vpcs == [
                VPC(
                    id: "vpc-1", ownerId: Self.account, ipv4CidrBlocks: ["10.0.0.0/16", "10.2.0.0/16"],
                    ipv6CidrBlocks: ["2600:1f18::/56"], tags: ["ipam-lease-id": "lease-1", "Name": "a & b"]),
                VPC(id: "vpc-2", ownerId: Self.account, ipv4CidrBlocks: ["10.0.0.0/16"]),
                VPC(id: "vpc-3", ownerId: Self.account, ipv4CidrBlocks: ["10.9.0.0/24"]),
            ])
        let requests = transport.requests
        #expect(requests.count == 2)
        #expect(Self.form(requests[0]) == ["Action": "DescribeVpcs", "Version": "2016-11-15", "MaxResults": "5"])
        #expect(Self.form(requests[1])["NextToken"] == "token/+=1")
        for request in requests {
            #expect(request.method == "POST")
            #expect(request.url == "http://127.0.0.1:5000/")
            #expect(request.headers["Host"] == "127.0.0.1:5000")
            #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8")
            #expect(request.headers["X-Amz-Date"] == "20231114T221320Z")
            #expect(request.headers["X-Amz-Security-Token"] == "tok")
            let authorization = try #require(request.headers["Authorization"])
            #expect(
                authorization.hasPrefix(
                    "AWS4-HMAC-SHA256 Credential=AKIDTEST/20231114/eu-west-1/ec2/aws4_request, "
                        + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature="))
            // The signature is over exactly what was sent.
            let signed = SigV4Request(
                method: "POST", path: "/",
                headers: request.headers.fields.filter { $0.name != "Authorization" }, body: request.body ?? [])
            #expect(
                SigV4Signer(region: "eu-west-1", service: "ec2").authorization(
                    for: signed, credentials: Self.credentials, amzDate: "20231114T221320Z") == authorization)
        }
    }

    @Test("throttling and 5xx are retried with full-jitter exponential backoff, capped")
    func retries() async throws {
        let transport = ScriptedTransport([
            .answer(503, Self.error("RequestLimitExceeded")), .answer(400, Self.error("Throttling")),
            .answer(500, "<html>gateway</html>"), .answer(200, Self.page([Self.vpcItem("vpc-1")])),
        ])
        let sleeps = RecordedSleeps()
        let vpcs = try await Self.client(transport, sleeps: sleeps, attempts: 4, random: 0.5).describeVpcs()
        #expect(vpcs.map(\.id) == ["vpc-1"])
        // min(350, 100·2^n) · 0.5
        #expect(sleeps.all == [.milliseconds(50), .milliseconds(100), .milliseconds(175)])
    }

    @Test("throttling past the retries is a failure naming the account and region, never a partial listing")
    func retriesExhaustedOnSecondPage() async throws {
        let transport = ScriptedTransport([
            .answer(200, Self.page([Self.vpcItem("vpc-1")], next: "n")),
            .answer(400, Self.error("RequestLimitExceeded", "Request limit exceeded.")),
            .answer(400, Self.error("RequestLimitExceeded", "Request limit exceeded.")),
        ])
        let sleeps = RecordedSleeps()
        let failure = await #expect(throws: AWSFailure.self) {
            try await Self.client(transport, sleeps: sleeps, attempts: 2, random: 0).describeVpcs()
        }
        #expect(failure?.kind == .retriesExhausted)
        #expect(failure?.code == "RequestLimitExceeded")
        #expect(failure?.account == Self.account && failure?.region == "eu-west-1")
        #expect(failure?.description.contains("AWS account 123456789012 region eu-west-1") == true)
        #expect(sleeps.all == [.zero])
    }

    @Test(
        "AuthFailure, UnauthorizedOperation, OptInRequired and others fail at once, typed",
        arguments: [
            ("AuthFailure", AWSFailure.Kind.authFailure), ("UnauthorizedOperation", .unauthorizedOperation),
            ("OptInRequired", .optInRequired), ("InvalidParameterValue", .refused),
        ])
    func typedFailures(_ code: String, _ kind: AWSFailure.Kind) async throws {
        let transport = ScriptedTransport([.answer(403, Self.error(code)), .answer(200, Self.page([]))])
        let sleeps = RecordedSleeps()
        let failure = await #expect(throws: AWSFailure.self) {
            try await Self.client(transport, sleeps: sleeps).describeVpcs()
        }
        #expect(failure?.kind == kind)
        #expect(failure?.code == code)
        #expect(failure?.account == Self.account && failure?.region == "eu-west-1")
        #expect(transport.requests.count == 1)
        #expect(sleeps.all.isEmpty)
    }

    @Test("an unreachable endpoint is retried, then a typed failure")
    func unreachable() async throws {
        let transport = ScriptedTransport([.unreachable, .unreachable, .unreachable])
        let failure = await #expect(throws: AWSFailure.self) {
            try await Self.client(transport, attempts: 3, random: 0).describeVpcs()
        }
        #expect(failure?.kind == .unreachable)
        #expect(transport.requests.count == 3)
    }

    @Test("a real refused connection (nothing listening) is an unreachable failure")
    func refusedSocket() async throws {
        let client = EC2Client(
            account: Self.account, region: "us-east-1", endpoint: "http://127.0.0.1:9",
            credentials: StaticCredentialsProvider(Self.credentials), transport: CurlTransport(),
            retry: AWSRetryPolicy(maximumAttempts: 2, sleep: { _ in }, random: { 0 }))
        let failure = await #expect(throws: AWSFailure.self) { try await client.describeVpcs() }
        #expect(failure?.kind == .unreachable)
        #expect(failure?.region == "us-east-1")
    }

    @Test(
        "answers of the wrong shape fail as malformed, never as an empty listing",
        arguments: [
            "not xml", "<DescribeVpcsResponse></DescribeVpcsResponse>", "<Other><vpcSet/></Other>",
            "<DescribeVpcsResponse><vpcSet><item><ownerId>1</ownerId></item></vpcSet></DescribeVpcsResponse>",
            "<DescribeVpcsResponse><vpcSet><item><vpcId>v</vpcId><tagSet><item><value>x</value></item></tagSet></item></vpcSet></DescribeVpcsResponse>",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>",
            "<Response><Errors><Error><Message>no code</Message></Error></Errors></Response>",
        ])
    func malformed(_ body: String) async throws {
        let transport = ScriptedTransport([.answer(200, body)])
        let failure = await #expect(throws: AWSFailure.self) { try await Self.client(transport).describeVpcs() }
        #expect(failure?.kind == .malformedAnswer)
    }

    @Test("a page token that comes back again is refused instead of looping")
    func repeatedToken() async throws {
        let transport = ScriptedTransport([
            .answer(200, Self.page([Self.vpcItem("vpc-1")], next: "same")),
            .answer(200, Self.page([Self.vpcItem("vpc-2")], next: "same")),
        ])
        let failure = await #expect(throws: AWSFailure.self) { try await Self.client(transport).describeVpcs() }
        #expect(failure?.kind == .malformedAnswer)
    }

    @Test("an error document with HTTP 200 is an error, not a page")
    func errorWithSuccessStatus() async throws {
        let transport = ScriptedTransport([.answer(200, Self.error("UnauthorizedOperation"))])
        let failure = await #expect(throws: AWSFailure.self) { try await Self.client(transport).describeVpcs() }
        #expect(failure?.kind == .unauthorizedOperation)
    }

    @Test("MaxResults stays within EC2's 5...1000")
    func pageSizeBounds() {
        let transport = ScriptedTransport([])
        #expect(Self.client(transport, pageSize: 1).pageSize == 5)
        #expect(Self.client(transport, pageSize: 5000).pageSize == 1000)
    }

    @Test("full jitter: the delay spans zero to the capped exponential")
    func jitter() {
        let low = AWSRetryPolicy(
            baseDelay: .milliseconds(100), maximumDelay: .seconds(1), sleep: { _ in }, random: { 0 })
        let high = AWSRetryPolicy(
            baseDelay: .milliseconds(100), maximumDelay: .seconds(1), sleep: { _ in }, random: { 1 })
        #expect(low.delay(beforeRetry: 3) == .zero)
        #expect(high.delay(beforeRetry: 0) == .milliseconds(100))
        #expect(high.delay(beforeRetry: 3) == .milliseconds(800))
        #expect(high.delay(beforeRetry: 4) == .seconds(1))
        #expect(high.delay(beforeRetry: 200) == .seconds(1))
    }
}

@Suite("AWS credentials and endpoints from the environment")
struct AWSEnvironmentTests {
    @Test("access key, secret and session token; neither set is nil; one alone or blank names the variable")
    func credentials() throws {
        #expect(
            try AWSCredentials.fromEnvironment([
                "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            ]) == AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s", sessionToken: "t"))
        #expect(
            try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"])
                == AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s"))
        #expect(
            try AWSCredentials.fromEnvironment([
                "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": " ",
            ])?.sessionToken == nil)
        #expect(try AWSCredentials.fromEnvironment([:]) == nil)
        #expect(throws: AWSConfigurationError(variable: "AWS_SECRET_ACCESS_KEY", reason: "is missing or blank")) {
            try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(throws: AWSConfigurationError(variable: "AWS_ACCESS_KEY_ID", reason: "is missing or blank")) {
            try AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": " ", "AWS_SECRET_ACCESS_KEY": "s"])
        }
    }

    @Test("the description never shows the secret or the token")
    func redacted() {
        let text = String(
            describing: AWSCredentials(accessKeyId: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))
        #expect(text.contains("AKID"))
        #expect(!text.contains("SECRET") && !text.contains("TOKEN"))
    }

    @Test("the service's variable, then AWS_ENDPOINT_URL, then AWS's regional endpoint")
    func endpoints() throws {
        #expect(
            try AWSEndpoint.resolve(service: "ec2", region: "us-east-1", environment: [:])
                == "https://ec2.us-east-1.amazonaws.com")
        #expect(
            try AWSEndpoint.resolve(service: "sts", region: "eu-central-2", environment: [:])
                == "https://sts.eu-central-2.amazonaws.com")
        let both = ["AWS_ENDPOINT_URL": "http://127.0.0.1:1/", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:2"]
        #expect(try AWSEndpoint.resolve(service: "ec2", region: "us-east-1", environment: both) == "http://127.0.0.1:2")
        #expect(try AWSEndpoint.resolve(service: "sts", region: "us-east-1", environment: both) == "http://127.0.0.1:1")
        #expect(
            try AWSEndpoint.resolve(
                service: "sts", region: "us-east-1", environment: ["AWS_ENDPOINT_URL_STS": "https://s"])
                == "https://s")
        #expect(throws: AWSConfigurationError.self) {
            try AWSEndpoint.resolve(
                service: "ec2", region: "us-east-1", environment: ["AWS_ENDPOINT_URL_EC2": "ftp://x"])
        }
        #expect(throws: AWSConfigurationError.self) {
            try AWSEndpoint.resolve(
                service: "ec2", region: "us-east-1", environment: ["AWS_ENDPOINT_URL": "http://x/?a#b"])
        }
        for bad in ["", "us-east", "US-EAST-1", "us-east-1.evil.com/", "us-east-x", "us--1", "us-east-1 "] {
            #expect(throws: AWSConfigurationError.self) {
                try AWSEndpoint.resolve(service: "ec2", region: bad, environment: [:])
            }
        }
        #expect(AWSRegion.isValid("us-gov-west-1"))
    }
}
