package import Foundation
package import HTTPTransport

/// Temporary credentials and when they stop working.
package struct TemporaryCredentials: Sendable, Equatable {
    package var credentials: AWSCredentials
    package var expiration: Date

    package init(credentials: AWSCredentials, expiration: Date) {
        self.credentials = credentials
        self.expiration = expiration
    }
}

/// STS (Query API version 2011-06-15): `AssumeRole`, signed with the caller's credentials, and
/// `AssumeRoleWithWebIdentity`, which AWS takes unsigned (the web identity token is the proof).
package struct STSClient: Sendable {
    package static let apiVersion = "2011-06-15"
    package let account: String
    package let region: String
    package let endpoint: String
    package let transport: any HTTPTransport
    package let retry: AWSRetryPolicy
    package let now: @Sendable () -> Date

    /// - Parameter account: the account the credentials are for (named in failures).
    package init(
        account: String, region: String, endpoint: String, transport: any HTTPTransport,
        retry: AWSRetryPolicy = .init(), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.account = account
        self.region = region
        self.endpoint = endpoint
        self.transport = transport
        self.retry = retry
        self.now = now
    }

    /// `sts:AssumeRole` with the caller's credentials; `externalId` when the role's trust policy asks for one.
    package func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int = 3600,
        credentials: any AWSCredentialsProvider
    ) async throws(AWSFailure) -> TemporaryCredentials {
        var parameters: [(name: String, value: String)] = [
            ("Action", "AssumeRole"), ("Version", Self.apiVersion), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("DurationSeconds", String(durationSeconds)),
        ]
        if let externalId { parameters.append(("ExternalId", externalId)) }
        let answer = try await client(credentials).call(parameters)
        return try temporaryCredentials(answer, response: "AssumeRoleResponse", result: "AssumeRoleResult")
    }

    /// `sts:AssumeRoleWithWebIdentity` (EKS with IRSA: the projected service-account token), unsigned.
    package func assumeRoleWithWebIdentity(
        roleArn: String, sessionName: String, webIdentityToken: String, durationSeconds: Int = 3600
    ) async throws(AWSFailure) -> TemporaryCredentials {
        let answer = try await client(nil).call([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", Self.apiVersion), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken),
            ("DurationSeconds", String(durationSeconds)),
        ])
        return try temporaryCredentials(
            answer, response: "AssumeRoleWithWebIdentityResponse", result: "AssumeRoleWithWebIdentityResult")
    }

    func client(_ credentials: (any AWSCredentialsProvider)?) -> AWSQueryClient {
        AWSQueryClient(
            service: "sts", account: account, region: region, endpoint: endpoint, credentials: credentials,
            transport: transport, retry: retry, now: now)
    }

    /// `<…Response><…Result><Credentials>` with all four members; the expiration in ISO 8601.
    func temporaryCredentials(_ answer: XMLElement, response: String, result: String) throws(AWSFailure)
        -> TemporaryCredentials
    {
        guard answer.name == response, let credentials = answer.child(result)?.child("Credentials"),
            let id = credentials.childText("AccessKeyId"), !id.isEmpty,
            let secret = credentials.childText("SecretAccessKey"), !secret.isEmpty,
            let token = credentials.childText("SessionToken"), !token.isEmpty,
            let expirationText = credentials.childText("Expiration")
        else {
            throw AWSFailure(
                kind: .malformedAnswer, account: account, region: region,
                detail: "the \(response) has no complete Credentials")
        }
        guard let expiration = Self.parseExpiration(expirationText) else {
            throw AWSFailure(
                kind: .malformedAnswer, account: account, region: region,
                detail: "the credentials' Expiration '\(expirationText)' is not an ISO 8601 time")
        }
        return TemporaryCredentials(
            credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token),
            expiration: expiration)
    }

    /// `2015-08-30T12:36:00Z`, with or without fractional seconds.
    static func parseExpiration(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// Credentials that STS hands out, kept until five minutes before they expire, then fetched again; one
/// fetch at a time however many callers ask.
package actor RefreshingCredentialsProvider: AWSCredentialsProvider {
    private let fetch: @Sendable () async throws -> TemporaryCredentials
    private let now: @Sendable () -> Date
    private let refreshMargin: TimeInterval
    private var current: TemporaryCredentials?
    private var pending: Task<TemporaryCredentials, any Error>?

    package init(
        refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() },
        fetch: @escaping @Sendable () async throws -> TemporaryCredentials
    ) {
        self.fetch = fetch
        self.now = now
        self.refreshMargin = refreshMargin
    }

    package func credentials() async throws -> AWSCredentials {
        if let current, current.expiration.timeIntervalSince(now()) > refreshMargin { return current.credentials }
        if let pending { return try await pending.value.credentials }
        let task = Task { try await fetch() }
        pending = task
        defer { pending = nil }
        let fresh = try await task.value
        current = fresh
        return fresh.credentials
    }

    /// `sts:AssumeRole` of `roleArn` with `base` credentials (a role per account, optional external id).
    package static func assumeRole(
        sts: STSClient, roleArn: String, sessionName: String, externalId: String? = nil,
        base: any AWSCredentialsProvider
    ) -> RefreshingCredentialsProvider {
        RefreshingCredentialsProvider(now: sts.now) {
            try await sts.assumeRole(
                roleArn: roleArn, sessionName: sessionName, externalId: externalId, credentials: base)
        }
    }

    /// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`): the token file is read
    /// again at every refresh (Kubernetes rotates it). Nil when the two variables are not both set.
    package static func webIdentity(environment: [String: String], sts: STSClient) throws(AWSConfigurationError)
        -> RefreshingCredentialsProvider?
    {
        let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let role = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        if file == nil && role == nil { return nil }
        guard let file else {
            throw AWSConfigurationError(
                variable: "AWS_WEB_IDENTITY_TOKEN_FILE", reason: "is missing (AWS_ROLE_ARN is set)")
        }
        guard let role, role.hasPrefix("arn:") else {
            throw AWSConfigurationError(variable: "AWS_ROLE_ARN", reason: "is missing or not an ARN")
        }
        let session = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "ipam"
        return RefreshingCredentialsProvider(now: sts.now) {
            let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw AWSConfigurationError(variable: "AWS_WEB_IDENTITY_TOKEN_FILE", reason: "names an empty file")
            }
            return try await sts.assumeRoleWithWebIdentity(
                roleArn: role, sessionName: session, webIdentityToken: token)
        }
    }
}
