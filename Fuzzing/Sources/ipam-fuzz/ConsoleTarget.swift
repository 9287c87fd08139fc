import Foundation
import Hummingbird

@testable import VendorHTTP

/// The console's cookies and forms (anyone can send them): the `Cookie` header is read into name → value, each
/// value is read as a session cookie (a forged or tampered one names no session), a stored credential that is not
/// this secret's opens as nothing, and an urlencoded body is decoded. A cookie the console issues names its
/// session; the same cookie with anything appended or cut names none.
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
        let cookies = ConsoleRoutes.cookies(request)
        for value in Array(cookies.values) + [header] {
            if let id = sessions.sessionID(cookie: value), !value.hasPrefix(id + ".") {
                violated("a cookie named a session it does not carry")
            }
            if sessions.open(value) != nil { violated("outside input opened as a sealed credential") }
        }
        let form = runBlocking { try? await ConsoleRoutes.form(request) }
        guard form != nil else { violated("a body of \(body.count) bytes was not read as a form") }

        let (id, cookie) = sessions.newSession()
        guard sessions.sessionID(cookie: cookie) == id else { violated("an issued cookie does not name its session") }
        let suffix = text(body.prefix(64))
        if !suffix.isEmpty, sessions.sessionID(cookie: cookie + suffix) != nil {
            violated("a cookie with '\(suffix)' appended still names a session")
        }
        if sessions.sessionID(cookie: String(cookie.dropLast(1 + bytes.count % 8))) != nil {
            violated("a cut cookie still names a session")
        }
    }
}
