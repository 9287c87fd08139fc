import AWSClient
import Foundation
import HTTPTransport
import Synchronization
import Testing

@Suite("STS: AssumeRole, AssumeRoleWithWebIdentity and refreshing credentials")
struct STSClientTests {
    static let base = AWSCredentials(accessKeyId: "AKIDBASE", secretAccessKey: "base-secret")

    static func answer(_ action: String, id: String = "ASIATEMP", expiration: String = "2023-11-14T23:13:20Z") -> String
    {
        """
        <\(action)Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><\(action)Result><Credentials>\
        <AccessKeyId>\(id)</AccessKeyId><SecretAccessKey>temp-secret</SecretAccessKey>\
        <SessionToken>temp-token</SessionToken><Expiration>\(expiration)</Expiration></Credentials>\
        </\(action)Result></\(action)Response>
        """
    }

    static func sts(
        _ transport: ScriptedTransport,
        now: @escaping @Sendable () -> Date = { Date(timeIntervalSince1970: 1_700_000_000) }
    )
        -> STSClient
    {
        STSClient(
            account: "210987654321", region: "us-east-1", endpoint: "http://127.0.0.1:5001", transport: transport,
            retry: AWSRetryPolicy(maximumAttempts: 2, sleep: { _ in }, random: { 0 }), now: now)
    }

    @Test("AssumeRole: signed with the base credentials for sts, external id sent, temporary credentials read")
    func assumeRole() async throws {
        let transport = ScriptedTransport([.answer(200, Self.answer("AssumeRole"))])
        let result = try await Self.sts(transport).assumeRole(
            roleArn: "arn:aws:iam::210987654321:role/ipam-reader", sessionName: "ipam", externalId: "ext-1",
            credentials: StaticCredentialsProvider(Self.base))
        #expect(
            result.credentials
                == AWSCredentials(accessKeyId: "ASIATEMP", secretAccessKey: "temp-secret", sessionToken: "temp-token"))
        #expect(result.expiration == Date(timeIntervalSince1970: 1_700_003_600))
        let request = try #require(transport.requests.first)
        #expect(
            EC2ClientTests.form(request) == [
                "Action": "AssumeRole", "Version": "2011-06-15",
                "RoleArn": "arn:aws:iam::210987654321:role/ipam-reader",
                "RoleSessionName": "ipam", "DurationSeconds": "3600", "ExternalId": "ext-1",
            ])
        #expect(
            request.headers["Authorization"]?.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIDBASE/20231114/us-east-1/sts/aws4_request") == true)
    }

    @Test("AssumeRoleWithWebIdentity is sent unsigned, the token in the form")
    func webIdentity() async throws {
        let transport = ScriptedTransport([.answer(200, Self.answer("AssumeRoleWithWebIdentity"))])
        let result = try await Self.sts(transport).assumeRoleWithWebIdentity(
            roleArn: "arn:aws:iam::210987654321:role/irsa", sessionName: "s", webIdentityToken: "eyJ.token")
        #expect(result.credentials.accessKeyId == "ASIATEMP")
        let request = try #require(transport.requests.first)
        #expect(request.headers["Authorization"] == nil)
        #expect(EC2ClientTests.form(request)["WebIdentityToken"] == "eyJ.token")
        #expect(EC2ClientTests.form(request)["Action"] == "AssumeRoleWithWebIdentity")
    }

    @Test(
        "refusals are typed; incomplete or wrong answers are malformed",
        arguments: [
            (
                403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>",
                AWSFailure.Kind.unauthorizedOperation
            ),
            (403, "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>", .authFailure),
            (
                200,
                "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>",
                .malformedAnswer
            ),
            (200, STSClientTests.answer("AssumeRole", expiration: "tomorrow"), .malformedAnswer),
            (200, STSClientTests.answer("AssumeRoleWithWebIdentity"), .malformedAnswer),
        ])
    func failures(_ status: Int, _ body: String, _ kind: AWSFailure.Kind) async throws {
        let transport = ScriptedTransport([.answer(status, body)])
        let failure = await #expect(throws: AWSFailure.self) {
            try await Self.sts(transport).assumeRole(
                roleArn: "arn:aws:iam::210987654321:role/r", sessionName: "s",
                credentials: StaticCredentialsProvider(Self.base))
        }
        #expect(failure?.kind == kind)
        #expect(failure?.account == "210987654321")
    }

    @Test("refreshing credentials are reused until five minutes before expiry, then fetched again")
    func refresh() async throws {
        let clock = Mutex(Date(timeIntervalSince1970: 1_700_000_000))
        let fetches = Mutex(0)
        let provider = RefreshingCredentialsProvider(now: { clock.withLock { $0 } }) {
            let count = fetches.withLock { value -> Int in
                value += 1
                return value
            }
            return TemporaryCredentials(
                credentials: AWSCredentials(accessKeyId: "K\(count)", secretAccessKey: "s", sessionToken: "t"),
                expiration: Date(timeIntervalSince1970: 1_700_003_600))
        }
        #expect(try await provider.credentials().accessKeyId == "K1")
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_700_003_299) }
        #expect(try await provider.credentials().accessKeyId == "K1")
        clock.withLock { $0 = Date(timeIntervalSince1970: 1_700_003_300) }
        #expect(try await provider.credentials().accessKeyId == "K2")
        #expect(fetches.withLock { $0 } == 2)
    }

    @Test("web identity from the environment: both variables or neither; the token file read at each refresh")
    func webIdentityEnvironment() async throws {
        let transport = ScriptedTransport([
            .answer(200, Self.answer("AssumeRoleWithWebIdentity", id: "ASIAONE", expiration: "2023-11-14T22:14:00Z")),
            .answer(200, Self.answer("AssumeRoleWithWebIdentity", id: "ASIATWO", expiration: "2023-11-14T23:14:00Z")),
        ])
        let sts = Self.sts(transport)
        #expect(try RefreshingCredentialsProvider.webIdentity(environment: [:], sts: sts) == nil)
        #expect(throws: AWSConfigurationError.self) {
            try RefreshingCredentialsProvider.webIdentity(
                environment: ["AWS_ROLE_ARN": "arn:aws:iam::1:role/r"], sts: sts)
        }
        #expect(throws: AWSConfigurationError.self) {
            try RefreshingCredentialsProvider.webIdentity(
                environment: ["AWS_WEB_IDENTITY_TOKEN_FILE": "/x", "AWS_ROLE_ARN": "role"], sts: sts)
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("irsa-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "first-token\n".write(to: file, atomically: true, encoding: .utf8)
        let provider = try #require(
            try RefreshingCredentialsProvider.webIdentity(
                environment: [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": file.path, "AWS_ROLE_ARN": "arn:aws:iam::210987654321:role/irsa",
                ], sts: sts))
        #expect(try await provider.credentials().accessKeyId == "ASIAONE") // expires within the margin
        try "second-token".write(to: file, atomically: true, encoding: .utf8)
        #expect(try await provider.credentials().accessKeyId == "ASIATWO")
        let tokens = transport.requests.map { EC2ClientTests.form($0)["WebIdentityToken"] }
        #expect(tokens == ["first-token", "second-token"])
        #expect(EC2ClientTests.form(transport.requests[0])["RoleSessionName"] == "ipam")
    }
}
