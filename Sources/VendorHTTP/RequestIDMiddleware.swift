import HTTPTypes
import Hummingbird
import IPAMCore
import Logging
import StrictJSON

/// Gives each request its id and writes its log line.
///
/// The id is the caller's `x-request-id` when it is a sane one (1 to 64 ASCII letters, digits, `-`, `_`, `.`),
/// else a new UUID: it goes back in the answer's `x-request-id`, into every log line of the request and, with
/// the actor `anonymous` until authentication names one, to the audit events the request's work writes
/// (`AuditContext`). Log lines get the id (and the caller, once authenticated) from the audit context through the
/// logger's metadata provider, read only when a line is written: setting a logger's metadata per request made
/// the stream handler re-render all of it on every set, whether anything was logged or not. After the answer,
/// one `request` line: method, path, status and the caller when one was authenticated.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    /// The logger every request's logger starts from; with `--insecure-no-auth` (`authenticationDisabled`), its
    /// `auth` metadata says so, set once here, so every log line says so.
    let logger: Logger

    init(logger: Logger, authenticationDisabled: Bool) {
        var logger = logger
        if authenticationDisabled { logger[metadataKey: "auth"] = "disabled (--insecure-no-auth)" }
        let existing = logger.handler.metadataProvider
        logger.handler.metadataProvider =
            existing.map { .multiplex([$0, Self.requestMetadata]) } ?? Self.requestMetadata
        self.logger = logger
    }
    static let header = HTTPField.Name("x-request-id")!

    /// The request's id and its authenticated caller, from the audit context of the task writing the line.
    static let requestMetadata = Logger.MetadataProvider {
        guard let audit = AuditContext.current else { return [:] }
        if audit.actor == AuditContext.anonymous { return ["request_id": .string(audit.requestId)] }
        return ["request_id": .string(audit.requestId), "caller": .string(audit.actor)]
    }

    /// The caller's id when it is a sane one, else a new one.
    static func requestID(from request: Request) -> String {
        let incoming = request.headers[header].flatMap { id in
            (1...64).contains(id.utf8.count) && id.utf8.allSatisfy(isSane) ? id : nil
        }
        var generator = SystemRandomNumberGenerator()
        return incoming ?? ASCIIFormat.uuidV4(using: &generator)
    }

    private static func isSane(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        context.requestID = Self.requestID(from: request)
        context.logger = logger
        let audit = AuditContext(actor: AuditContext.anonymous, requestId: context.requestID)
        let inner = context
        var response = try await AuditContext.$current.withValue(audit) { try await next(request, inner) }
        response.headers[Self.header] = context.requestID
        // Outside the audit context now: the line names its request (and caller) itself.
        logger.info(
            "request",
            metadata: [
                "request_id": .string(context.requestID),
                "caller": context.notes.loggedCaller.map { .string($0) },
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
            ].compactMapValues { $0 })
        return response
    }
}
