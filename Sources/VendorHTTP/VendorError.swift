import Foundation
package import HTTPTypes
package import Hummingbird
package import IPAMCore
import NIOCore
import StrictJSON
import VendorAPI

/// An answer the Vendor gives instead of what was asked: a typed code (which fixes the HTTP status),
/// a message, and the offending field and machine-readable facts when there are any.
///
/// Thrown by the edge (the domain throws `DomainError`, mapped by `VendorError(_:)`); `ErrorMiddleware` renders it
/// as the one error shape
/// `{code, message, requestId, field?, details?}`, with `Retry-After` when the client should retry.
package struct VendorError: HTTPResponseError, Sendable, CustomStringConvertible {
    package let code: ErrorCode
    package let message: String
    /// The offending request field, when there is one.
    package let field: String?
    /// Extra machine-readable facts (e.g. `leaseId`, `state`, `scope`).
    package let details: [String: String]
    /// Seconds a client should wait before retrying (sent as `Retry-After`).
    package let retryAfter: Int?
    /// Methods the path accepts (`Allow`, with `methodNotAllowed`).
    var allowed: [String]?

    package init(
        _ code: ErrorCode, _ message: String, field: String? = nil, details: [String: String] = [:],
        retryAfter: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.retryAfter = retryAfter
    }

    package var description: String { "\(status.code) \(code.rawValue): \(message)" }

    /// The one table from code to HTTP status.
    package static func status(of code: ErrorCode) -> HTTPResponse.Status {
        switch code {
        case .invalidJSON, .unknownField, .duplicateField, .missingField, .invalidField, .invalidSessionId,
            .invalidLeaseId,
            .invalidPrefixLength, .ambiguousScope, .invalidRequest, .invalidQuery, .invalidContinuation,
            .invalidPrincipal:
            return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden, .notAuthorized, .requesterNotAllowed: return .forbidden
        case .unknownScope, .notFound, .leaseNotFound, .sessionNotFound, .hostIPNotFound: return .notFound
        case .methodNotAllowed: return .methodNotAllowed
        case .sessionConflict, .sessionOwnedByAnother, .poolExhausted, .ipExhausted, .principalHasIP,
            .ownerUnchangeable, .overlap, .reservationReadOnly, .quotaExceeded:
            return .conflict
        case .leaseGone, .leaseReleased, .alreadyReleased, .leaseNotRenewable, .leaseEnded: return .gone
        case .payloadTooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .subnetsDoNotFit, .unknownSubnet, .outsideSupernets, .unknownPool, .tagRequired, .invalidCombination:
            return .unprocessableContent
        case .internalError: return .internalServerError
        case .busy, .storageUnavailable, .outcomeUnknown, .tooManyConnections: return .serviceUnavailable
        case .requestTimeout: return .requestTimeout
        }
    }

    package var status: HTTPResponse.Status { Self.status(of: code) }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        response(requestID: (context as? any RequestIdentified)?.requestID ?? "")
    }

    /// The one error shape, `{code, message, requestId, field?, details?}`, with `Retry-After`,
    /// `WWW-Authenticate: Bearer` (401) and `Allow` (405) when they apply.
    func response(requestID: String) -> Response {
        let body = API.ErrorBody(code, message, requestId: requestID, field: field, details: details)
        var response = VendorRouter.jsonResponse(status, body.json)
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if code == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if let allowed { response.headers[.allow] = allowed.joined(separator: ", ") }
        return response
    }

    /// A request rejected by strict decoding.
    package static func badRequest(_ problem: RequestProblem) -> VendorError {
        VendorError(problem.code, problem.message, field: problem.field)
    }
}
