import Foundation
import Hummingbird

@testable import VendorConsole

/// The console's cookies and forms (anyone can send them): the `Cookie` header is read with Hummingbird's
/// `request.cookies` as the console reads it, each value is read as a session cookie (a forged or tampered one
/// names no session), a stored credential that is not this secret's opens as nothing, and an urlencoded body is
/// decoded as the console's forms with Hummingbird's `URLEncodedFormDecoder`: a body the decoder accepts reads
/// the same fields again once re-encoded as a browser encodes a form, and every form shape reads the same token
/// from it. A cookie the console issues reads back as sent and names its session; the same cookie with anything
/// appended or cut names none.
enum ConsoleTarget: FuzzTarget {
    static let name = "console"
    static let sessions = ConsoleSessions(secret: "fuzzing-secret-of-at-least-32-characters")

    static func run(_ bytes: [UInt8]) {
        let (head, body) = bytes.split(at: UInt8(ascii: "\n"))
        let header = text(head)
        var fields = HTTPFields()
        fields[.cookie] = header
        let request = Request(
            head: HTTPRequest(
                method: .post, scheme: "http", authority: "localhost", path: "/console/reserve", headerFields: fields),
            body: RequestBody(buffer: ByteBuffer(bytes: body)))
        // Every name the header holds, and the console's own, read as the console reads its cookies.
        let names =
            header.split(separator: ";").compactMap { pair in
                pair.firstIndex(of: "=").map { String(pair[..<$0].drop { $0.isWhitespace }) }
            } + [ConsoleSession.cookieName, ConsoleSession.signInCookieName]
        var values = [header]
        for name in names {
            guard let value = ConsoleInput.cookie(name, in: request) else { continue }
            values.append(value)
        }
        for value in values {
            if let id = sessions.sessionID(cookie: value), !value.hasPrefix(id + ".") {
                violated("a cookie named a session it does not carry")
            }
            if sessions.open(value) != nil { violated("outside input opened as a sealed credential") }
        }

        let reservation = runBlocking { try? await ConsoleInput.form(ReservationForm.self, from: request) }
        let source = text(body)
        if let reservation {
            // What the decoder accepted reads back the same once re-encoded as a browser would (every byte but the
            // unreserved ones escaped; Hummingbird's own encoder leaves '+', which its decoder reads as a space).
            let fields = [
                ("csrf", reservation.csrf), ("scope", reservation.scope), ("cidr", reservation.cidr),
                ("owner", reservation.owner), ("reason", reservation.reason), ("expiresAt", reservation.expiresAt),
            ].compactMap { name, value in value.map { (name, $0) } }
            let encoded = ConsoleRoutes.encode(fields)
            if ConsoleInput.decode(ReservationForm.self, from: encoded) != reservation {
                violated("the form '\(source)' does not read back the same once re-encoded as '\(encoded)'")
            }
            // The token is the same whichever form reads the body.
            if ConsoleInput.decode(TokenForm.self, from: source)?.csrf != reservation.csrf {
                violated("the sign-out form read another token than the reserve form")
            }
        }

        let (id, cookie) = sessions.newSession()
        guard sessions.sessionID(cookie: cookie) == id else { violated("an issued cookie does not name its session") }
        var issued = HTTPFields()
        issued[.cookie] = "\(ConsoleSession.cookieName)=\(cookie)"
        let browser = Request(
            head: HTTPRequest(
                method: .get, scheme: "http", authority: "localhost", path: "/console", headerFields: issued),
            body: RequestBody(buffer: ByteBuffer()))
        if ConsoleInput.cookie(ConsoleSession.cookieName, in: browser) != cookie {
            violated("an issued cookie is not read back as sent")
        }
        let suffix = text(body.prefix(64))
        if !suffix.isEmpty, sessions.sessionID(cookie: cookie + suffix) != nil {
            violated("a cookie with '\(suffix)' appended still names a session")
        }
        if sessions.sessionID(cookie: String(cookie.dropLast(1 + bytes.count % 8))) != nil {
            violated("a cut cookie still names a session")
        }
    }
}
