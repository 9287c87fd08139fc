package import Foundation
package import HTTPTransport
import StrictJSON

/// Why a credentials endpoint (ECS, instance metadata) gave no credentials.
package struct CredentialEndpointError: Error, CustomStringConvertible {
    package var description: String
}

/// The credentials endpoints of AWS's compute services, as the SDKs read them, and the chain that picks one.
package enum CredentialEndpoints {
    /// ECS (and EKS Pod Identity): `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on `http://169.254.170.2`, or
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (plain http only to a loopback or the container endpoints' addresses),
    /// with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `AWS_CONTAINER_AUTHORIZATION_TOKEN` as `Authorization`.
    /// Nil when neither URI is set.
    package static func container(
        environment: [String: String], transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }
    ) throws(AWSConfigurationError) -> RefreshingCredentialsProvider? {
        let url: String
        if let relative = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]) {
            guard relative.hasPrefix("/") else {
                throw AWSConfigurationError(
                    variable: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", reason: "does not start with '/'")
            }
            url = "http://169.254.170.2" + relative
        } else if let full = nonEmpty(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) {
            guard let parsed = URLComponents(string: full), let host = parsed.host,
                parsed.scheme == "https" || (parsed.scheme == "http" && allowedPlainHosts(host))
            else {
                throw AWSConfigurationError(
                    variable: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    reason: "must be https, or http to a loopback address or the container credentials endpoint")
            }
            url = full
        } else {
            return nil
        }
        let tokenFile = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"])
        let token = nonEmpty(environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"])
        return RefreshingCredentialsProvider(now: now) {
            var headers: HTTPHeaderList = ["Accept": "application/json"]
            if let tokenFile {
                headers["Authorization"] = try String(contentsOfFile: tokenFile, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            } else if let token {
                headers["Authorization"] = token
            }
            let response = try await transport.execute(
                TransportRequest(method: "GET", url: url, headers: headers, timeout: .seconds(5)))
            guard response.status == 200 else {
                throw CredentialEndpointError(
                    description: "the container credentials endpoint answered \(response.status)")
            }
            return try credentials(json: response.body, source: "the container credentials endpoint")
        }
    }

    /// EC2 instance metadata, IMDSv2 only: a session token (`PUT /latest/api/token`), the role's name, then its
    /// credentials. `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it (default `http://169.254.169.254`);
    /// `AWS_EC2_METADATA_DISABLED=true` turns it off (nil).
    package static func instanceMetadata(
        environment: [String: String], transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }
    ) -> RefreshingCredentialsProvider? {
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { return nil }
        var endpoint = nonEmpty(environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"]) ?? "http://169.254.169.254"
        if endpoint.hasSuffix("/") { endpoint.removeLast() }
        return RefreshingCredentialsProvider(now: now) { [endpoint] in
            let session = try await transport.execute(
                TransportRequest(
                    method: "PUT", url: endpoint + "/latest/api/token",
                    headers: ["X-aws-ec2-metadata-token-ttl-seconds": "21600"], timeout: .seconds(2)))
            guard session.status == 200, !session.body.isEmpty else {
                throw CredentialEndpointError(
                    description: "instance metadata gave no session token (\(session.status))")
            }
            let token: HTTPHeaderList = ["X-aws-ec2-metadata-token": session.bodyText]
            let base = endpoint + "/latest/meta-data/iam/security-credentials/"
            let roles = try await transport.execute(
                TransportRequest(method: "GET", url: base, headers: token, timeout: .seconds(2)))
            guard roles.status == 200,
                let role = roles.bodyText.split(whereSeparator: \.isNewline).first.map(String.init),
                !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || "+=,.@_-".contains($0) })
            else { throw CredentialEndpointError(description: "the instance has no IAM role (\(roles.status))") }
            let answer = try await transport.execute(
                TransportRequest(method: "GET", url: base + role, headers: token, timeout: .seconds(2)))
            guard answer.status == 200 else {
                throw CredentialEndpointError(
                    description: "instance metadata answered \(answer.status) for role \(role)")
            }
            return try credentials(json: answer.body, source: "instance metadata")
        }
    }

    /// As the SDKs look: a web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), the environment's
    /// keys, the container endpoint, instance metadata.
    package static func chain(
        environment: [String: String], sts: STSClient, transport: any HTTPTransport
    ) throws(AWSConfigurationError) -> any AWSCredentialsProvider {
        if let webIdentity = try RefreshingCredentialsProvider.webIdentity(environment: environment, sts: sts) {
            return webIdentity
        }
        if let keys = try AWSCredentials.fromEnvironment(environment) { return StaticCredentialsProvider(keys) }
        if let container = try container(environment: environment, transport: transport, now: sts.now) {
            return container
        }
        if let metadata = instanceMetadata(environment: environment, transport: transport, now: sts.now) {
            return metadata
        }
        throw AWSConfigurationError(
            variable: "AWS_ACCESS_KEY_ID", reason: "is not set, and no other credentials source is configured")
    }

    /// `{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}`, all four present.
    static func credentials(json bytes: [UInt8], source: String) throws -> TemporaryCredentials {
        let json = try JSONValue.parse(bytes)
        guard let id = json["AccessKeyId"]?.stringValue, !id.isEmpty,
            let secret = json["SecretAccessKey"]?.stringValue, !secret.isEmpty,
            let token = json["Token"]?.stringValue, !token.isEmpty,
            let expiration = json["Expiration"]?.stringValue.flatMap(STSClient.parseExpiration)
        else { throw CredentialEndpointError(description: "\(source) answered without complete credentials") }
        return TemporaryCredentials(
            credentials: AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token),
            expiration: expiration)
    }

    static func allowedPlainHosts(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || isIPv4Loopback(bare) || bare == "169.254.170.2"
            || bare == "169.254.170.23" || bare == "fd00:ec2::23"
    }

    /// `127.x.y.z` as an IPv4 literal (four decimal octets), not a name that merely starts with `127.`.
    static func isIPv4Loopback(_ host: String) -> Bool {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
    }

    static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.trimmingSpaces.isEmpty else { return nil }
        return value
    }
}
