import Foundation
import Hummingbird
@testable import VendorService

/// The console's cookies and forms (anyone can send them): the `Cookie` header is read into name → value, the
/// session cookie is opened (forged, tampered with or expired: nil), and an urlencoded body is decoded. A session
/// the console issues opens as the same session, whatever the caller's name.
enum ConsoleTarget: FuzzTarget {
    static let name = "console"
    static let sessions = ConsoleSessions(secret: "fuzzing-secret-of-at-least-32-characters")
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func run(_ bytes: [UInt8]) {
        let (head, body) = bytes.split(at: UInt8(ascii: "\n"))
        let header = text(head)
        var fields = HTTPFields()
        fields[.cookie] = header
        let request = Request(head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/console/reserve", headerFields: fields),
                              body: RequestBody(buffer: ByteBuffer(bytes: body)))
        let cookies = ConsoleRoutes.cookies(request)
        for value in Array(cookies.values) + [header] {
            if let session = sessions.open(value, now: now), session.expires <= now { violated("an expired session opened") }
        }
        let form = runBlocking { try? await ConsoleRoutes.form(request) }
        guard form != nil else { violated("a body of \(body.count) bytes was not read as a form") }

        let caller = text(body.prefix(200))
        for role in Role.allCases {
            let issued = sessions.issue(caller: caller, role: role, expires: now.addingTimeInterval(3600))
            guard sessions.open(issued.value, now: now) == issued.session else { violated("an issued session for '\(caller)' does not open") }
            guard sessions.open(issued.value, now: now.addingTimeInterval(3601)) == nil else { violated("a session opened after it expired") }
        }
    }
}
