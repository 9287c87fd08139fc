import Crypto
import Foundation
import StrictJSON
import TokenAuth

/// The console's signed session: who signed in, with which role, until when. Kept in an HttpOnly,
/// SameSite=Strict cookie signed (HMAC-SHA-256) with `CONSOLE_SESSION_SECRET`; the key or token used to sign in
/// is never stored. Each session has a nonce from which its CSRF token is derived, so a form posted without the
/// token of the session that rendered it is refused.
public struct ConsoleSession: Sendable, Equatable {
    public let caller: String
    public let role: Role
    public let expires: Date
    let nonce: String

    /// How long a session lasts (a token's own expiry may end it sooner).
    public static let lifetime: TimeInterval = 8 * 3600
    public static let cookieName = "ipam_console"
    /// The sign-in form's own CSRF cookie (before there is a session).
    public static let signInCookieName = "ipam_console_signin"
}

/// Signs and checks console sessions and CSRF tokens with `CONSOLE_SESSION_SECRET`.
public struct ConsoleSessions: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The fewest characters `CONSOLE_SESSION_SECRET` may have.
    public static let minimumSecretLength = 32

    public init(secret: String) {
        keyBytes = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("ipam console session".utf8), outputByteCount: 32)
            .withUnsafeBytes { Array($0) }
    }

    /// A new session's cookie value.
    public func issue(caller: String, role: Role, expires: Date) -> (value: String, session: ConsoleSession) {
        let nonce = BearerTokenVerifier.base64URL(Data((0..<16).map { _ in UInt8.random(in: 0...255) }))
        let payload = JSONValue.object([("c", .string(caller)), ("r", .string(role.description)), ("e", .number(String(Int(expires.timeIntervalSince1970)))),
                                        ("n", .string(nonce))])
        let body = BearerTokenVerifier.base64URL(Data(payload.serializedBytes))
        return (body + "." + sign(body), ConsoleSession(caller: caller, role: role, expires: Date(timeIntervalSince1970: Double(Int(expires.timeIntervalSince1970))), nonce: nonce))
    }

    /// The session a cookie value holds, nil when it is forged, tampered with or expired.
    public func open(_ value: String, now: Date) -> ConsoleSession? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, constantTimeEqual(sign(parts[0]), parts[1]), let data = BearerTokenVerifier.base64URL(parts[0]),
              let json = try? JSONValue.parse(Array(data)), let caller = json["c"]?.stringValue, let roleName = json["r"]?.stringValue,
              let role = Role.allCases.first(where: { $0.description == roleName }), case .number(let expiryText)? = json["e"], let expiry = Double(expiryText),
              let nonce = json["n"]?.stringValue else { return nil }
        let expires = Date(timeIntervalSince1970: expiry)
        guard expires > now else { return nil }
        return ConsoleSession(caller: caller, role: role, expires: expires, nonce: nonce)
    }

    /// The CSRF token of a session (or of a sign-in form's nonce).
    public func csrfToken(nonce: String) -> String { sign("csrf:" + nonce) }

    public func checkCSRF(_ presented: String?, nonce: String) -> Bool {
        guard let presented else { return false }
        return constantTimeEqual(csrfToken(nonce: nonce), presented)
    }

    func csrfToken(_ session: ConsoleSession) -> String { csrfToken(nonce: session.nonce) }

    private func sign(_ text: String) -> String {
        BearerTokenVerifier.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
