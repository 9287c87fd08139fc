import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import TokenAuth

/// Names the caller a request's credential belongs to: an API key (`x-functions-key`, `Authorization: Bearer`,
/// or `?code=`) or a bearer token, and slows down refused credentials per client address (`FailedKeyThrottle`).
package struct Authenticator: Sendable {
    /// The API keys accepted (nil: none, and with no `tokens` authentication is off).
    package let keys: APIKeys?
    /// The bearer tokens accepted, when an issuer is configured.
    package let tokens: TokenAuthentication?
    let throttle: FailedKeyThrottle
    let time: TimeSource
    static let functionsKeyHeader = HTTPField.Name("x-functions-key")!

    /// No key and no token configured (`--insecure-no-auth`): every caller is `anonymous` with `admin`.
    var isDisabled: Bool { keys == nil && tokens == nil }

    /// The caller a request's key or bearer token names and its role; throws `Unauthorized` without a valid
    /// one (after the client's failed-key delay), and `Forbidden` for a valid token that carries no role ipam knows.
    func authenticate(_ request: Request, from address: String) async throws(VendorError) -> CallerIdentity {
        if isDisabled { return CallerIdentity(caller: "anonymous", role: .admin) }
        var presented = request.headers[Self.functionsKeyHeader]
        if presented == nil, let authorization = request.headers[.authorization],
            authorization.lowercased().hasPrefix("bearer ")
        {
            presented = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil { presented = request.uri.queryParameters.get("code") } // the Functions `?code=` convention
        guard let presented else {
            throw VendorError(.unauthorized, AuthenticationMiddleware.refusal)
        }
        if let found = keys?.authenticate(presented) { return CallerIdentity(caller: found.caller, role: found.role) }
        var refusal = VendorError(.unauthorized, AuthenticationMiddleware.refusal)
        if let tokens, BearerTokenVerifier.looksLikeToken(presented) {
            do throws(VendorError) {
                let (caller, role) = try await tokens.authenticate(presented)
                return CallerIdentity(caller: caller, role: role)
            } catch {
                guard error.code == .unauthorized else { throw error }
                refusal = error
            }
        }
        await refused(from: address)
        throw refusal
    }

    /// Records a refused credential from `address` and waits out the delay the throttle gives its answer.
    package func refused(from address: String) async {
        let delay = throttle.delay(afterFailureFrom: address)
        if delay > .zero { try? await time.sleep(delay) }
    }
}
