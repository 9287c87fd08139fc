import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Logging

/// Gives each request its id and writes its log line.
///
/// The id is the caller's `x-request-id` when it is a sane one (at most 64 letters, digits, `-`, `_`, `.`),
/// else a new UUID: it goes back in the answer's `x-request-id`, into every log line of the request (through
/// `context.logger`) and, with the actor `anonymous` until authentication names one, to the audit events
/// the request's work writes (`AuditContext`). After the answer, one `request` line: method, path, status
/// and the caller when one was authenticated.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    /// The logger every request's logger starts from; with `--insecure-no-auth` (`authenticationDisabled`), its
    /// `auth` metadata says so, set once here, so every log line says so.
    let logger: Logger

    init(logger: Logger, authenticationDisabled: Bool) {
        var logger = logger
        if authenticationDisabled { logger[metadataKey: "auth"] = "disabled (--insecure-no-auth)" }
        self.logger = logger
    }
    static let header = HTTPField.Name("x-request-id")!

    /// The caller's id when it is a sane one, else a new one.
    static func requestID(from request: Request) -> String {
        let incoming = request.headers[header].flatMap { id in
            id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
                ? id : nil
        }
        return incoming ?? UUID().uuidString.lowercased()
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.requestID = Self.requestID(from: request)
        var log = logger
        log[metadataKey: "request_id"] = .string(context.requestID)
        context.logger = log // handlers log through it, so every line carries the request id
        let audit = AuditContext(actor: "anonymous", requestId: context.requestID)
        let inner = context
        var response = try await AuditContext.$current.withValue(audit) { try await next(request, inner) }
        response.headers[Self.header] = context.requestID
        if let caller = context.notes.loggedCaller { log[metadataKey: "caller"] = .string(caller) }
        log.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
            ])
        return response
    }
}
