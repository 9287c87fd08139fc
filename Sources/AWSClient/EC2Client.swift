package import Foundation
package import HTTPTransport

/// A VPC as EC2's `DescribeVpcs` reports it: only the CIDR blocks whose association state is `associated`.
package struct VPC: Sendable, Equatable {
    package var id: String
    package var ownerId: String
    package var ipv4CidrBlocks: [String]
    package var ipv6CidrBlocks: [String]
    package var tags: [String: String]

    package init(
        id: String, ownerId: String, ipv4CidrBlocks: [String], ipv6CidrBlocks: [String] = [],
        tags: [String: String] = [:]
    ) {
        self.id = id
        self.ownerId = ownerId
        self.ipv4CidrBlocks = ipv4CidrBlocks
        self.ipv6CidrBlocks = ipv6CidrBlocks
        self.tags = tags
    }
}

/// Why an AWS call failed, naming the account and region it was for. A listing that meets one has no result:
/// nothing partial is ever handed back as if it were complete.
package struct AWSFailure: Error, Equatable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// `AuthFailure` and the other answers that say the credentials are not valid.
        case authFailure
        /// `UnauthorizedOperation`: the identity lacks the permission (`ec2:DescribeVpcs`).
        case unauthorizedOperation
        /// `OptInRequired`: the region is not enabled for the account.
        case optInRequired
        /// `RequestLimitExceeded`, `Throttling` or an HTTP 5xx on every attempt.
        case retriesExhausted
        /// No HTTP answer (connection refused, DNS, TLS, timeout).
        case unreachable
        /// An answer this client cannot read (not XML, not the expected shape, a page token repeated).
        case malformedAnswer
        /// Any other error code AWS answered with.
        case refused
        /// No credentials could be had.
        case credentials
    }

    package var kind: Kind
    package var account: String
    package var region: String
    /// AWS's error code (`AuthFailure`, …) when it answered with one.
    package var code: String?
    package var detail: String

    package init(kind: Kind, account: String, region: String, code: String? = nil, detail: String) {
        self.kind = kind
        self.account = account
        self.region = region
        self.code = code
        self.detail = detail
    }

    package var description: String {
        "AWS account \(account) region \(region): \(code.map { "\($0): " } ?? "")\(detail)"
    }
}

/// The EC2 Query API (version 2016-11-15) for one account and region, on the project's HTTP transport:
/// POST form-encoded, signed with SigV4 for service `ec2`, retries on throttling and 5xx.
package struct EC2Client: Sendable {
    package static let apiVersion = "2016-11-15"
    package let account: String
    package let region: String
    /// `https://ec2.us-east-1.amazonaws.com` or the override (`AWSEndpoint.resolve`); no trailing slash.
    package let endpoint: String
    package let credentials: any AWSCredentialsProvider
    package let transport: any HTTPTransport
    package let retry: AWSRetryPolicy
    /// `MaxResults` of each page (5 to 1000, as EC2 allows).
    package let pageSize: Int
    package let now: @Sendable () -> Date

    package init(
        account: String, region: String, endpoint: String, credentials: any AWSCredentialsProvider,
        transport: any HTTPTransport, retry: AWSRetryPolicy = .init(), pageSize: Int = 1000,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        self.region = region
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.pageSize = max(5, min(pageSize, 1000))
        self.now = now
    }

    /// Every VPC the identity sees in the region, following `NextToken` to the last page.
    package func describeVpcs() async throws(AWSFailure) -> [VPC] {
        var vpcs: [VPC] = []
        var token: String? = nil
        var seenTokens: Set<String> = []
        repeat {
            var parameters: [(name: String, value: String)] = [
                ("Action", "DescribeVpcs"), ("Version", Self.apiVersion), ("MaxResults", String(pageSize)),
            ]
            if let token { parameters.append(("NextToken", token)) }
            let answer = try await call(parameters)
            guard answer.name == "DescribeVpcsResponse", let set = answer.child("vpcSet") else {
                throw failure(.malformedAnswer, "the DescribeVpcs answer has no vpcSet (root <\(answer.name)>)")
            }
            for item in set.children("item") { vpcs.append(try vpc(item)) }
            token = answer.childText("nextToken").flatMap { $0.isEmpty ? nil : $0 }
            if let token {
                guard seenTokens.insert(token).inserted else {
                    throw failure(.malformedAnswer, "DescribeVpcs repeated the page token \(token)")
                }
            }
        } while token != nil
        return vpcs
    }

    /// One VPC `<item>`; the CIDR blocks are those whose association state is `associated`.
    func vpc(_ item: XMLElement) throws(AWSFailure) -> VPC {
        guard let id = item.childText("vpcId"), !id.isEmpty else {
            throw failure(.malformedAnswer, "a VPC of the answer has no vpcId")
        }
        let ipv4 = (item.child("cidrBlockAssociationSet")?.children("item") ?? [])
            .filter { $0.child("cidrBlockState")?.childText("state") == "associated" }
            .compactMap { $0.childText("cidrBlock") }
        let ipv6 = (item.child("ipv6CidrBlockAssociationSet")?.children("item") ?? [])
            .filter { $0.child("ipv6CidrBlockState")?.childText("state") == "associated" }
            .compactMap { $0.childText("ipv6CidrBlock") }
        var tags: [String: String] = [:]
        for tag in item.child("tagSet")?.children("item") ?? [] {
            guard let key = tag.childText("key") else { throw failure(.malformedAnswer, "a tag of \(id) has no key") }
            tags[key] = tag.childText("value") ?? ""
        }
        return VPC(
            id: id, ownerId: item.childText("ownerId") ?? "", ipv4CidrBlocks: ipv4, ipv6CidrBlocks: ipv6, tags: tags)
    }

    /// One EC2 Query API call (the version added): the answer's root element.
    package func call(_ parameters: [(name: String, value: String)]) async throws(AWSFailure) -> XMLElement {
        try await query.call(parameters)
    }

    var query: AWSQueryClient {
        AWSQueryClient(
            service: "ec2", account: account, region: region, endpoint: endpoint, credentials: credentials,
            transport: transport, retry: retry, now: now)
    }

    func failure(_ kind: AWSFailure.Kind, _ detail: String, code: String? = nil) -> AWSFailure {
        AWSFailure(kind: kind, account: account, region: region, code: code, detail: detail)
    }
}
