import Foundation
import Hummingbird

/// A form the console accepts: decoded from an `application/x-www-form-urlencoded` body by Hummingbird's
/// `URLEncodedFormDecoder`, with the CSRF token every console form carries.
///
/// Fields the form does not name are ignored; a field sent twice, a bad percent escape or a bracketed name
/// (`csrf[x]`) make the body undecodable, and an undecodable form is refused as one without a valid token.
protocol ConsoleForm: Decodable, Sendable {
    /// The form's CSRF token (of the session, or of the sign-in form's nonce).
    var csrf: String? { get }
}

/// The sign-in form: an API key or an Entra ID access token.
struct SignInForm: ConsoleForm, Equatable {
    var csrf: String?
    var key: String?
}

/// A form that carries nothing but its token (signing out, releasing a reservation).
struct TokenForm: ConsoleForm, Equatable {
    var csrf: String?
}

/// The reserve form; its fields are checked by `ReservationRequest` as the API's are.
struct ReservationForm: ConsoleForm, Equatable {
    var csrf: String?
    var scope: String?
    var cidr: String?
    var owner: String?
    var reason: String?
    var expiresAt: String?
}

/// Reads what a browser sends the console: its forms and its cookies, with Hummingbird's decoders.
enum ConsoleInput {
    /// The largest form body read.
    static let maxFormBytes = 16 * 1024

    /// A POSTed form (at most `maxFormBytes`, a longer body throws as Hummingbird's `collect(upTo:)` does);
    /// nil when the body is not a form of this shape.
    static func form<Form: ConsoleForm>(_ type: Form.Type, from request: Request) async throws -> Form? {
        var buffer = try await request.body.collect(upTo: maxFormBytes)
        return decode(type, from: buffer.readString(length: buffer.readableBytes) ?? "")
    }

    /// A form from an urlencoded body's text, nil when it does not decode.
    static func decode<Form: ConsoleForm>(_ type: Form.Type, from body: String) -> Form? {
        try? URLEncodedFormDecoder().decode(type, from: body)
    }

    /// The value of the request's cookie `name` (the first, when the browser sends several), nil without one.
    static func cookie(_ name: String, in request: Request) -> String? {
        request.cookies[name]?.value
    }
}
