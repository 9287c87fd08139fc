/// An access key, its secret and, for temporary credentials, the session token.
///
/// Its description never shows the secret or the token.
package struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    package var accessKeyId: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    package var description: String {
        "AWSCredentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token"))"
    }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (both or neither), with `AWS_SESSION_TOKEN` when set.
    /// Nil when neither key is set; a start-up error naming the variable when only one is, or one is blank.
    package static func fromEnvironment(_ environment: [String: String]) throws(AWSConfigurationError)
        -> AWSCredentials?
    {
        let id = environment["AWS_ACCESS_KEY_ID"]
        let secret = environment["AWS_SECRET_ACCESS_KEY"]
        if id == nil && secret == nil { return nil }
        guard let id, !id.trimmingSpaces.isEmpty else {
            throw AWSConfigurationError(variable: "AWS_ACCESS_KEY_ID", reason: "is missing or blank")
        }
        guard let secret, !secret.trimmingSpaces.isEmpty else {
            throw AWSConfigurationError(variable: "AWS_SECRET_ACCESS_KEY", reason: "is missing or blank")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.trimmingSpaces.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// Where credentials come from; asked before every request, so a provider may refresh them.
package protocol AWSCredentialsProvider: Sendable {
    func credentials() async throws -> AWSCredentials
}

/// Credentials that do not change (from the environment, or given by a test).
package struct StaticCredentialsProvider: AWSCredentialsProvider {
    package let value: AWSCredentials
    package init(_ value: AWSCredentials) { self.value = value }
    package func credentials() async throws -> AWSCredentials { value }
}

/// A setting that cannot be used, naming the environment variable.
package struct AWSConfigurationError: Error, Equatable, CustomStringConvertible {
    package var variable: String
    package var reason: String

    package init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    package var description: String { "\(variable) \(reason)" }
}

/// The endpoint of one AWS service in one region, overridable as the AWS SDKs allow: the service's own
/// variable (`AWS_ENDPOINT_URL_EC2`, `AWS_ENDPOINT_URL_STS`) first, then `AWS_ENDPOINT_URL`, then AWS's
/// regional endpoint (`https://ec2.us-east-1.amazonaws.com`).
package enum AWSEndpoint {
    /// - Parameter service: the signing name (`ec2`, `sts`), which is also the endpoint's prefix.
    package static func resolve(service: String, region: String, environment: [String: String])
        throws(AWSConfigurationError) -> String
    {
        let specific = "AWS_ENDPOINT_URL_" + service.uppercased()
        for variable in [specific, "AWS_ENDPOINT_URL"] {
            guard let value = environment[variable], !value.trimmingSpaces.isEmpty else { continue }
            guard value.hasPrefix("http://") || value.hasPrefix("https://"),
                !value.unicodeScalars.contains(where: { $0 == " " || $0.value < 0x20 || $0 == "?" || $0 == "#" })
            else { throw AWSConfigurationError(variable: variable, reason: "is not an http(s) URL: \(value)") }
            return value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        guard AWSRegion.isValid(region) else {
            throw AWSConfigurationError(variable: "region", reason: "'\(region)' is not an AWS region name")
        }
        return "https://\(service).\(region).amazonaws.com"
    }
}

/// AWS region names: lower-case letters, digits and dashes (`us-east-1`, `eu-central-2`, `us-gov-west-1`).
package enum AWSRegion {
    package static func isValid(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count >= 3 && region.utf8.count <= 32
            && parts.allSatisfy {
                !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
            }
            && parts.last!.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}

extension String {
    var trimmingSpaces: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return Substring(scalars[first...last])
    }
}
