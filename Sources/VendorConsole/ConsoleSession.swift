import Crypto
package import Foundation
package import IPAMCore
import StrictJSON
import TokenAuth
package import VendorHTTP

/// A console session as one request sees it: who is signed in and the role their key or token gives them
/// *now* (looked up again on every request), until when, and the id its CSRF token is derived from.
package struct ConsoleSession: Sendable, Equatable {
    package let caller: String
    package let role: Role
    package let expires: Date
    /// The random id the cookie carries (its digest names the session's row in storage).
    let id: String

    /// How long a session lasts at most, however active (a token's own expiry may end it sooner).
    package static let lifetime: TimeInterval = 8 * 3600
    /// How long a session may sit unused when `CONSOLE_IDLE_SECONDS` is not set.
    package static let defaultIdleTimeout: TimeInterval = 1800
    package static let cookieName = "ipam_console"
    /// The sign-in form's own CSRF cookie (before there is a session).
    package static let signInCookieName = "ipam_console_signin"
}

/// What a session was signed in with, sealed into its row: enough to ask, on each request, which role that
/// credential has now, and never the credential itself.
enum ConsoleCredential: Sendable, Equatable {
    /// An API key, by its SHA-256 (what `APIKeys` keeps): looked up again in the keys configured now.
    case key(digest: [UInt8])
    /// A bearer token: its issuer, its subject as the caller, and its app roles (mapped again with the role
    /// map configured now; the session ends with the token's `exp`).
    case token(issuer: String, caller: String, appRoles: [String])
    /// Authentication was off (`--insecure-no-auth`): valid only while it still is.
    case open

    var json: JSONValue {
        switch self {
        case .key(let digest): return .object([("kind", .string("key")), ("digest", .string(ASCIIFormat.hex(digest)))])
        case .token(let issuer, let caller, let appRoles):
            return .object([
                ("kind", .string("token")), ("issuer", .string(issuer)), ("caller", .string(caller)),
                ("roles", .array(appRoles.map(JSONValue.string))),
            ])
        case .open: return .object([("kind", .string("open"))])
        }
    }

    init?(json: JSONValue) {
        switch json["kind"]?.stringValue {
        case "key":
            guard let hex = json["digest"]?.stringValue, let digest = Self.bytes(hex: hex),
                digest.count == SHA256.byteCount
            else { return nil }
            self = .key(digest: digest)
        case "token":
            guard let issuer = json["issuer"]?.stringValue, let caller = json["caller"]?.stringValue,
                let roles = json["roles"]?.arrayValue
            else { return nil }
            self = .token(issuer: issuer, caller: caller, appRoles: roles.compactMap(\.stringValue))
        case "open": self = .open
        default: return nil
        }
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }
}

/// The console's keys and session settings: signs session cookies and CSRF tokens, seals what a session's row
/// holds (all derived from `CONSOLE_SESSION_SECRET`, the same for every Vendor of a table), and says how long
/// a session may sit idle and whether cookies are `Secure`.
package struct ConsoleSessions: Sendable {
    private let signingKeyBytes: [UInt8]
    private let sealingKeyBytes: [UInt8]
    private var signingKey: SymmetricKey { SymmetricKey(data: signingKeyBytes) }
    private var sealingKey: SymmetricKey { SymmetricKey(data: sealingKeyBytes) }
    /// A session unused this long is over (`CONSOLE_IDLE_SECONDS`).
    package let idleTimeout: TimeInterval
    /// The console is served over plain http (`CONSOLE_PLAIN_HTTP`, local use): its cookies are not `Secure`.
    package let plainHTTP: Bool

    /// The fewest characters `CONSOLE_SESSION_SECRET` may have.
    package static let minimumSecretLength = 32

    package init(secret: String, idleTimeout: TimeInterval = ConsoleSession.defaultIdleTimeout, plainHTTP: Bool = false)
    {
        func derive(_ info: String) -> [UInt8] {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data(info.utf8), outputByteCount: 32
            )
            .withUnsafeBytes { Array($0) }
        }
        signingKeyBytes = derive("ipam console session")
        sealingKeyBytes = derive("ipam console session record")
        self.idleTimeout = idleTimeout
        self.plainHTTP = plainHTTP
    }

    /// The console's settings, nil when `CONSOLE_SESSION_SECRET` is not set (the console is off).
    /// - Parameter value: a setting's value, nil when unset.
    package static func load(_ value: (Setting) -> String?) throws(SettingError) -> ConsoleSessions? {
        guard let secret = value(.consoleSessionSecret) else { return nil }
        guard secret.count >= minimumSecretLength else {
            throw SettingError("CONSOLE_SESSION_SECRET must have at least \(minimumSecretLength) characters")
        }
        var idle = ConsoleSession.defaultIdleTimeout
        if let text = value(.consoleIdleSeconds) {
            guard let seconds = Int(text), seconds >= 60, Double(seconds) <= ConsoleSession.lifetime else {
                throw SettingError(
                    "CONSOLE_IDLE_SECONDS=\(text): a whole number of seconds from 60 to \(Int(ConsoleSession.lifetime))"
                )
            }
            idle = TimeInterval(seconds)
        }
        let plainHTTP: Bool
        switch value(.consolePlainHTTP)?.lowercased() {
        case nil, "false", "0", "no": plainHTTP = false
        case "true", "1", "yes": plainHTTP = true
        case let other?: throw SettingError("CONSOLE_PLAIN_HTTP=\(other): use true or false")
        }
        return ConsoleSessions(secret: secret, idleTimeout: idle, plainHTTP: plainHTTP)
    }

    /// A console setting that cannot be used.
    package struct SettingError: Error, Sendable, CustomStringConvertible {
        package let message: String
        init(_ message: String) { self.message = message }
        package var description: String { message }
    }

    /// How often a session's last use is written back: a tenth of the idle timeout, at most a minute (so a busy
    /// session costs one write a minute, and the idle expiry is exact to within that).
    var touchInterval: TimeInterval { min(60, idleTimeout / 10) }

    // MARK: Cookies

    /// A fresh session id and the cookie value that carries it (the id, signed); it names a session only once
    /// its row is stored.
    package func newSession() -> (id: String, cookie: String) {
        let id = Self.randomID()
        return (id, id + "." + sign("session:" + id))
    }

    /// The session id a cookie value carries, nil when it is forged or tampered with (no storage read for those).
    func sessionID(cookie value: String) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64,
            Self.constantTimeEqual(sign("session:" + parts[0]), parts[1])
        else { return nil }
        return parts[0]
    }

    /// The digest naming a session's row: the table never holds the id a cookie carries.
    static func digest(ofSessionID id: String) -> String { ASCIIFormat.hex(SHA256.hash(data: Data(id.utf8))) }

    /// The CSRF token of a session (or of a sign-in form's nonce).
    package func csrfToken(nonce: String) -> String { sign("csrf:" + nonce) }

    package func checkCSRF(_ presented: String?, nonce: String) -> Bool {
        guard let presented else { return false }
        return Self.constantTimeEqual(csrfToken(nonce: nonce), presented)
    }

    func csrfToken(_ session: ConsoleSession) -> String { csrfToken(nonce: session.id) }

    // MARK: The stored credential

    /// A credential sealed (AES-GCM, base64) for the session's row; only this secret opens it.
    func seal(_ credential: ConsoleCredential) -> String {
        guard let box = try? AES.GCM.seal(Data(credential.json.serializedBytes), using: sealingKey),
            let combined = box.combined
        else { return "" }
        return combined.base64EncodedString()
    }

    /// The credential a row holds, nil when it does not open with this secret.
    func open(_ sealed: String) -> ConsoleCredential? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: sealingKey),
            let json = try? JSONValue.parse(Array(plain))
        else { return nil }
        return ConsoleCredential(json: json)
    }

    // MARK: Pieces

    static func randomID() -> String {
        BearerTokenVerifier.base64URL(Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
    }

    private func sign(_ text: String) -> String {
        BearerTokenVerifier.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: signingKey)))
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
