package import Foundation
package import HTTPTransport

/// One AWS Query API service (EC2, STS) at one endpoint, for one account and region: POST form-encoded,
/// signed with SigV4 when it has credentials, retried on throttling, 5xx and unreachable endpoints;
/// failures typed (`AWSFailure`) and naming the account and region.
package struct AWSQueryClient: Sendable {
    /// Error codes that mean "slow down": retried like a 5xx.
    package static let throttlingCodes: Set<String> = [
        "RequestLimitExceeded", "Throttling", "ThrottlingException", "RequestThrottled", "RequestThrottledException",
        "TooManyRequestsException", "EC2ThrottledException", "IDPCommunicationError",
    ]
    static let authFailureCodes: Set<String> = [
        "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException",
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidAccessKeyId", "InvalidIdentityToken",
    ]

    /// The signing name (`ec2`, `sts`).
    package let service: String
    package let account: String
    package let region: String
    /// No trailing slash.
    package let endpoint: String
    /// Nil for the calls AWS takes unsigned (`AssumeRoleWithWebIdentity`).
    package let credentials: (any AWSCredentialsProvider)?
    package let transport: any HTTPTransport
    package let retry: AWSRetryPolicy
    package let now: @Sendable () -> Date

    package init(
        service: String, account: String, region: String, endpoint: String,
        credentials: (any AWSCredentialsProvider)?, transport: any HTTPTransport, retry: AWSRetryPolicy,
        now: @escaping @Sendable () -> Date
    ) {
        self.service = service
        self.account = account
        self.region = region
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.credentials = credentials
        self.transport = transport
        self.retry = retry
        self.now = now
    }

    /// One Query API call: signed, sent, retried on throttling and 5xx; the answer's root element.
    package func call(_ parameters: [(name: String, value: String)]) async throws(AWSFailure) -> XMLElement {
        guard let url = URL(string: endpoint), let host = url.host else {
            throw failure(.unreachable, "the endpoint \(endpoint) is not a URL")
        }
        let hostHeader = url.port.map { "\(host):\($0)" } ?? host
        let body = Array(PercentEncoding.form(parameters).utf8)
        let path = url.path.isEmpty ? "/" : url.path
        let signer = SigV4Signer(region: region, service: service)
        var attempt = 0
        while true {
            attempt += 1
            var headers: [(name: String, value: String)] = [
                ("Host", hostHeader), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ]
            if let credentials {
                let current: AWSCredentials
                do {
                    current = try await credentials.credentials()
                } catch {
                    throw failure(.credentials, "no credentials: \(error)")
                }
                headers += signer.signingHeaders(
                    for: SigV4Request(method: "POST", path: path, headers: headers, body: body), credentials: current,
                    date: now())
            }
            let request = TransportRequest(
                method: "POST", url: endpoint + (url.path.isEmpty ? "/" : ""), headers: HTTPHeaderList(headers),
                body: body)
            let outcome: Outcome
            do {
                outcome = classify(try await transport.execute(request))
            } catch {
                outcome = .retry(.unreachable, nil, "no answer: \(error)")
            }
            switch outcome {
            case .answer(let root): return root
            case .fail(let kind, let code, let detail): throw failure(kind, detail, code: code)
            case .retry(let kind, let code, let detail):
                guard attempt < retry.maximumAttempts else {
                    throw failure(
                        kind == .unreachable ? .unreachable : .retriesExhausted,
                        "\(detail) (after \(attempt) attempts)", code: code)
                }
                do {
                    try await retry.sleep(retry.delay(beforeRetry: attempt - 1))
                } catch {
                    throw failure(kind, "\(detail) (cancelled while waiting to retry)", code: code)
                }
            }
        }
    }

    enum Outcome {
        case answer(XMLElement)
        case retry(AWSFailure.Kind, String?, String)
        case fail(AWSFailure.Kind, String?, String)
    }

    /// What an HTTP answer means: a document, an error to retry, or a failure.
    func classify(_ response: TransportResponse) -> Outcome {
        let root: XMLElement
        do {
            root = try StrictXMLParser.parse(response.body)
        } catch {
            if response.status >= 500 { return .retry(.retriesExhausted, nil, "HTTP \(response.status)") }
            return .fail(.malformedAnswer, nil, "HTTP \(response.status), \(error)")
        }
        if (200..<300).contains(response.status), root.child("Errors") == nil { return .answer(root) }
        let error = root.child("Errors")?.child("Error") ?? root.child("Error")
        let code = error?.childText("Code")
        let message = error?.childText("Message") ?? "HTTP \(response.status)"
        guard let code else {
            if response.status >= 500 || response.status == 429 {
                return .retry(.retriesExhausted, nil, "HTTP \(response.status)")
            }
            return .fail(.malformedAnswer, nil, "HTTP \(response.status) without an error code")
        }
        if Self.throttlingCodes.contains(code) || response.status >= 500 {
            return .retry(.retriesExhausted, code, message)
        }
        if Self.authFailureCodes.contains(code) { return .fail(.authFailure, code, message) }
        switch code {
        case "UnauthorizedOperation", "AccessDenied": return .fail(.unauthorizedOperation, code, message)
        case "OptInRequired": return .fail(.optInRequired, code, message)
        default: return .fail(.refused, code, message)
        }
    }

    func failure(_ kind: AWSFailure.Kind, _ detail: String, code: String? = nil) -> AWSFailure {
        AWSFailure(kind: kind, account: account, region: region, code: code, detail: detail)
    }
}
