import AWSClient
import ArgumentParser
import Foundation
import HTTPTransport
import StrictJSON

/// `ipam-dev aws`: the AWS client layer from the command line, for the conformance tests (moto, botocore).
struct AWSTools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws", abstract: "The AWS client: list VPCs, sign a request.",
        subcommands: [DescribeVpcsCommand.self, SignCommand.self])
}

/// Credentials from the environment, or a usage error naming what is missing.
private func environmentCredentials() throws -> AWSCredentials {
    do {
        guard let credentials = try AWSCredentials.fromEnvironment(ProcessInfo.processInfo.environment) else {
            throw ValidationError("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        return credentials
    } catch let error as AWSConfigurationError {
        throw ValidationError(error.description)
    }
}

struct DescribeVpcsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-vpcs",
        abstract: "Every VPC of one account and region (EC2 DescribeVpcs, all pages), as JSON.",
        discussion: """
            Credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; the endpoint from \
            AWS_ENDPOINT_URL_EC2 or AWS_ENDPOINT_URL, else AWS's. Exit 3 with the failure on stderr when the \
            listing cannot be had whole.
            """)
    @Option(help: "The AWS region (us-east-1).") var region: String
    @Option(help: "The account the listing is for (named in failures).") var accountId: String
    @Option(help: "MaxResults of each page (5 to 1000).") var pageSize = 1000
    @Option(help: "Attempts per page on throttling, 5xx and unreachable endpoints.") var attempts = 5
    @Option(help: "A role to assume (sts:AssumeRole) with the environment's credentials.") var roleArn: String?
    @Option(help: "The external id the role's trust policy asks for.") var externalId: String?
    @Flag(help: "Print JSON (the only output format).") var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let transport = CurlTransport()
        let endpoint: String
        let credentials: any AWSCredentialsProvider
        do {
            endpoint = try AWSEndpoint.resolve(service: "ec2", region: region, environment: environment)
            let sts = STSClient(
                account: accountId, region: region,
                endpoint: try AWSEndpoint.resolve(service: "sts", region: region, environment: environment),
                transport: transport)
            let base = try CredentialEndpoints.chain(environment: environment, sts: sts, transport: transport)
            credentials =
                roleArn.map {
                    RefreshingCredentialsProvider.assumeRole(
                        sts: sts, roleArn: $0, sessionName: "ipam", externalId: externalId, base: base)
                } ?? base
        } catch {
            throw ValidationError("\(error)")
        }
        let client = EC2Client(
            account: accountId, region: region, endpoint: endpoint, credentials: credentials, transport: transport,
            retry: AWSRetryPolicy(maximumAttempts: attempts), pageSize: pageSize)
        let vpcs: [VPC]
        do {
            vpcs = try await client.describeVpcs()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(3)
        }
        let document = JSONValue.object([
            (
                "vpcs",
                .array(
                    vpcs.map { vpc in
                        .object([
                            ("id", .string(vpc.id)), ("ownerId", .string(vpc.ownerId)),
                            ("ipv4CidrBlocks", .array(vpc.ipv4CidrBlocks.map(JSONValue.string))),
                            ("ipv6CidrBlocks", .array(vpc.ipv6CidrBlocks.map(JSONValue.string))),
                            ("tags", .object(vpc.tags.keys.sorted().map { ($0, .string(vpc.tags[$0]!)) })),
                        ])
                    })
            )
        ])
        print(String(decoding: document.serializedBytes, as: UTF8.self))
    }
}

struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign one request with SigV4 at a given time and print the headers added, as JSON.",
        discussion: "Credentials from the environment. The URL's query is taken as written (unencoded).")
    @Option var method = "POST"
    @Option(help: "http(s)://host[:port]/path[?query]") var url: String
    @Option var region: String
    @Option var service: String
    @Option(help: "The signing time, 20150830T123600Z.") var date: String
    @Option(help: "A header to send and sign, 'Name: value' (repeatable).") var header: [String] = []
    @Option var body = ""

    func run() async throws {
        let credentials = try environmentCredentials()
        guard let components = URLComponents(string: url), let host = components.host else {
            throw ValidationError("--url is not a URL")
        }
        var formatter = DateComponents()
        let digits = Array(date.utf8)
        guard digits.count == 16, let year = Int(date.prefix(4)), let month = Int(date.dropFirst(4).prefix(2)),
            let day = Int(date.dropFirst(6).prefix(2)), let hour = Int(date.dropFirst(9).prefix(2)),
            let minute = Int(date.dropFirst(11).prefix(2)), let second = Int(date.dropFirst(13).prefix(2))
        else { throw ValidationError("--date must look like 20150830T123600Z") }
        formatter.year = year
        formatter.month = month
        formatter.day = day
        formatter.hour = hour
        formatter.minute = minute
        formatter.second = second
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let signingDate = calendar.date(from: formatter) else { throw ValidationError("--date is not a date") }
        var headers: [(name: String, value: String)] = [
            ("Host", components.port.map { "\(host):\($0)" } ?? host)
        ]
        for line in header {
            guard let colon = line.firstIndex(of: ":") else { throw ValidationError("--header '\(line)' has no ':'") }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let query: [(name: String, value: String)] = (components.percentEncodedQuery ?? "").split(separator: "&")
            .map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        let request = SigV4Request(
            method: method, path: components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath,
            query: query, headers: headers, body: Array(body.utf8))
        let signer = SigV4Signer(region: region, service: service)
        let added = signer.signingHeaders(for: request, credentials: credentials, date: signingDate)
        var signed = request
        signed.headers += added.filter { $0.name != "Authorization" }
        let document = JSONValue.object([
            ("headers", .object(added.map { ($0.name, .string($0.value)) })),
            ("canonicalRequest", .string(SigV4Signer.canonicalRequest(signed).text)),
        ])
        print(String(decoding: document.serializedBytes, as: UTF8.self))
    }
}
