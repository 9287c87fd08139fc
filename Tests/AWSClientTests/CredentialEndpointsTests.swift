import AWSClient
import Foundation
import HTTPTransport
import Testing

@Suite("Credentials from the ECS container endpoint, instance metadata (IMDSv2) and the chain")
struct CredentialEndpointsTests {
    static let json = """
        {"AccessKeyId":"ASIAEP","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z"}
        """

    @Test("container: the relative URI on 169.254.170.2, the authorization token sent")
    func containerRelative() async throws {
        let transport = ScriptedTransport([.answer(200, Self.json)])
        let provider = try #require(
            try CredentialEndpoints.container(
                environment: [
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok",
                ], transport: transport))
        #expect(
            try await provider.credentials()
                == AWSCredentials(accessKeyId: "ASIAEP", secretAccessKey: "s", sessionToken: "t"))
        #expect(transport.requests.map(\.url) == ["http://169.254.170.2/v2/credentials/abc"])
        #expect(transport.requests.first?.headers["Authorization"] == "tok")
    }

    @Test(
        "container: a full URI over plain http only to loopback or the endpoint's addresses",
        arguments: [
            ("http://127.0.0.1:8080/c", true), ("http://localhost/c", true), ("http://[::1]/c", true),
            ("http://169.254.170.23/v1/credentials", true), ("https://creds.example.com/c", true),
            ("http://203.0.113.7/c", false), ("http://169.254.169.254/c", false), ("ftp://127.0.0.1/c", false),
            ("http://127.0.0.1.evil.example/c", false), ("http://127.0.0.999/c", false), ("http://127.1/c", false),
        ])
    func containerFullURI(_ url: String, _ accepted: Bool) throws {
        let environment = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url]
        if accepted {
            #expect(
                try CredentialEndpoints.container(environment: environment, transport: ScriptedTransport([])) != nil)
        } else {
            #expect(throws: AWSConfigurationError.self) {
                try CredentialEndpoints.container(environment: environment, transport: ScriptedTransport([]))
            }
        }
    }

    @Test("container: an answer without all four members, or not 200, gives no credentials")
    func containerIncomplete() async throws {
        for step in [
            ScriptedTransport.Step.answer(
                200, #"{"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"2030-01-01T00:00:00Z"}"#),
            .answer(401, Self.json), .answer(200, "not json"),
        ] {
            let provider = try #require(
                try CredentialEndpoints.container(
                    environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/c"],
                    transport: ScriptedTransport([step])))
            await #expect(throws: (any Error).self) { try await provider.credentials() }
        }
    }

    @Test("instance metadata: IMDSv2 session token, the role's name, its credentials; disabled by the variable")
    func instanceMetadata() async throws {
        let transport = ScriptedTransport([
            .answer(200, "session-token"), .answer(200, "node-role\n"), .answer(200, Self.json),
        ])
        let provider = try #require(
            CredentialEndpoints.instanceMetadata(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/"], transport: transport))
        #expect(try await provider.credentials().accessKeyId == "ASIAEP")
        let requests = transport.requests
        #expect(requests.map(\.method) == ["PUT", "GET", "GET"])
        #expect(
            requests.map(\.url) == [
                "http://127.0.0.1:9/latest/api/token", "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/",
                "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/node-role",
            ])
        #expect(requests[0].headers["X-aws-ec2-metadata-token-ttl-seconds"] == "21600")
        #expect(requests[1].headers["X-aws-ec2-metadata-token"] == "session-token")
        #expect(requests[2].headers["X-aws-ec2-metadata-token"] == "session-token")
        #expect(
            CredentialEndpoints.instanceMetadata(
                environment: ["AWS_EC2_METADATA_DISABLED": "true"], transport: ScriptedTransport([])) == nil)
    }

    @Test("instance metadata: a role name that would change the path is refused")
    func instanceMetadataRoleName() async throws {
        let transport = ScriptedTransport([.answer(200, "s"), .answer(200, "../../user-data")])
        let provider = try #require(
            CredentialEndpoints.instanceMetadata(environment: [:], transport: transport))
        await #expect(throws: (any Error).self) { try await provider.credentials() }
        #expect(transport.requests.count == 2)
    }

    @Test("the chain: web identity, then the environment's keys, then the container endpoint, then metadata")
    func chain() throws {
        let sts = STSClient(
            account: "1", region: "us-east-1", endpoint: "http://127.0.0.1:1", transport: ScriptedTransport([]))
        let keys = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"]
        let container = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/c"]
        let web = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:aws:iam::1:role/r"]
        let transport = ScriptedTransport([])
        #expect(
            try CredentialEndpoints.chain(environment: keys.merging(web) { $1 }, sts: sts, transport: transport)
                is RefreshingCredentialsProvider)
        #expect(
            try CredentialEndpoints.chain(environment: keys.merging(container) { $1 }, sts: sts, transport: transport)
                is StaticCredentialsProvider)
        #expect(
            try CredentialEndpoints.chain(environment: container, sts: sts, transport: transport)
                is RefreshingCredentialsProvider)
        #expect(throws: AWSConfigurationError.self) {
            try CredentialEndpoints.chain(
                environment: ["AWS_EC2_METADATA_DISABLED": "true"], sts: sts, transport: transport)
        }
    }
}
