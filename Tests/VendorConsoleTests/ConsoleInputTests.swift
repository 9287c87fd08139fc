import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import VendorConsole

/// The console's forms and cookies, read with Hummingbird's `URLEncodedFormDecoder` and `request.cookies`.
@Suite("Console forms and cookies")
struct ConsoleInputTests {
    static func request(cookie: String? = nil, body: String = "") -> Request {
        var fields = HTTPFields()
        if let cookie { fields[.cookie] = cookie }
        return Request(
            head: HTTPRequest(
                method: .post, scheme: "http", authority: "localhost", path: "/console/reservations",
                headerFields: fields),
            body: RequestBody(buffer: ByteBuffer(string: body)))
    }

    @Test("a form's fields are percent- and plus-decoded; fields it does not name are ignored")
    func formsDecode() async throws {
        let form = try await ConsoleInput.form(
            ReservationForm.self,
            from: Self.request(body: "csrf=a-b_c&cidr=10.64.200.0%2F24&owner=team+alpha&reason=l%C3%A4b&extra=1"))
        #expect(
            form
                == ReservationForm(
                    csrf: "a-b_c", scope: nil, cidr: "10.64.200.0/24", owner: "team alpha", reason: "läb",
                    expiresAt: nil))
        #expect(ConsoleInput.decode(SignInForm.self, from: "") == SignInForm(csrf: nil, key: nil))
        #expect(ConsoleInput.decode(SignInForm.self, from: "key=&csrf") == SignInForm(csrf: nil, key: ""))
        #expect(ConsoleInput.decode(TokenForm.self, from: "csrf=x+y%2B") == TokenForm(csrf: "x y+"))
    }

    @Test("a field sent twice, a bad percent escape or a bracketed name make the form unreadable (refused)")
    func malformedFormsAreRefused() async throws {
        for body in ["csrf=a&csrf=b", "csrf=%ZZ", "csrf=%", "csrf[x]=a", "csrf[]=a"] {
            #expect(ConsoleInput.decode(SignInForm.self, from: body) == nil, "\(body)")
            #expect(try await ConsoleInput.form(SignInForm.self, from: Self.request(body: body)) == nil, "\(body)")
        }
    }

    @Test("a body over 16 KiB is not read")
    func largeBodiesThrow() async {
        let body = "csrf=" + String(repeating: "a", count: ConsoleInput.maxFormBytes)
        await #expect(throws: (any Error).self) {
            try await ConsoleInput.form(TokenForm.self, from: Self.request(body: body))
        }
    }

    @Test("a cookie is read by its exact name, the first of several, without the spaces around pairs")
    func cookies() {
        let request = Self.request(cookie: "other=1; ipam_console=id.signature;ipam_console_signin=nonce; junk")
        #expect(ConsoleInput.cookie("ipam_console", in: request) == "id.signature")
        #expect(ConsoleInput.cookie("ipam_console_signin", in: request) == "nonce")
        #expect(ConsoleInput.cookie("ipam", in: request) == nil)
        #expect(ConsoleInput.cookie("junk", in: request) == nil)
        #expect(ConsoleInput.cookie("ipam_console", in: Self.request()) == nil)
        let twice = Self.request(cookie: "ipam_console=first; ipam_console=second")
        #expect(ConsoleInput.cookie("ipam_console", in: twice) == "first")
    }
}
