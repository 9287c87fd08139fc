import Foundation
package import HTTPTransport

/// A failed Azure call: an error answer from the service, or a transport failure.
///
/// A struct with a private kind, so new kinds break no caller.
package struct AzureError: Error, Sendable, CustomStringConvertible {
    private enum Kind: String, Sendable { case service, transport, invalidResponse, invalidRequest }

    private let kind: Kind
    /// HTTP status, 0 when no answer arrived.
    package let status: Int
    /// Azure's error code (`x-ms-error-code` or `odata.error.code` / `error.code`).
    package let errorCode: String?
    package let message: String
    /// `x-ms-request-id` of the failed answer, for support tickets.
    package let requestID: String?
    /// For entity group transactions: zero-based index of the operation that failed.
    package let failedOperationIndex: Int?
    /// The transport failure, when no HTTP answer arrived.
    package let transportError: TransportError?

    package init(
        status: Int, errorCode: String?, message: String, requestID: String? = nil, failedOperationIndex: Int? = nil
    ) {
        self.kind = .service
        self.status = status
        self.errorCode = errorCode
        self.message = message
        self.requestID = requestID
        self.failedOperationIndex = failedOperationIndex
        self.transportError = nil
    }

    private init(kind: Kind, message: String, transport: TransportError? = nil) {
        self.kind = kind
        self.status = 0
        self.errorCode = nil
        self.message = message
        self.requestID = nil
        self.failedOperationIndex = nil
        self.transportError = transport
    }

    package static func transport(_ error: TransportError) -> AzureError {
        .init(kind: .transport, message: error.description, transport: error)
    }
    package static func invalidResponse(_ message: String) -> AzureError {
        .init(kind: .invalidResponse, message: message)
    }
    package static func invalidRequest(_ message: String) -> AzureError {
        .init(kind: .invalidRequest, message: message)
    }
    /// Not sent: the partition's turn (paced after throttling, `AdmissionControl`) is further away than the
    /// request's deadline allows. As a 503 `ServerBusy` would be: throttled, and certainly not applied.
    package static func notAdmitted(_ partition: String) -> AzureError {
        AzureError(
            status: 503, errorCode: "ServerBusy",
            message: "not sent: partition \(partition) is paced after throttling and has no turn within the deadline")
    }

    /// Not sent: its send window (`StorageDeadline.sendBy`) had passed before an attempt could start. Certainly
    /// not applied; told as a 503 `ServerBusy` (the caller tries again later, with a fresh event time).
    package static func notSent(after sendBy: Duration) -> AzureError {
        AzureError(
            status: 503, errorCode: "ServerBusy",
            message: "not sent: its send window ended at \(sendBy) (uptime) before an attempt could start")
    }

    /// 412: an `If-Match` condition failed: someone else changed the entity. An answer, not a fault.
    package var isPreconditionFailed: Bool { status == 412 }
    /// 409 (e.g. `EntityAlreadyExists`, `TableAlreadyExists`).
    package var isConflict: Bool { status == 409 }
    package var isNotFound: Bool { status == 404 }
    /// 429, or 503 `ServerBusy`: the service asks the caller to slow down.
    package var isThrottled: Bool { status == 429 || status == 503 }
    /// The service asks for less load on the partition: throttled, or 500 `OperationTimedOut` (its other answer
    /// past the scalability targets; for a write its outcome is still unknown).
    package var slowsDown: Bool { isThrottled || (status == 500 && errorCode == "OperationTimedOut") }
    package var isUnauthorized: Bool { status == 401 || status == 403 }
    package var isTransport: Bool { kind == .transport }
    package var isInvalidRequest: Bool { kind == .invalidRequest }
    /// The request may or may not have taken effect (a write whose answer was lost).
    package var outcomeUnknown: Bool {
        if let transportError { return transportError.outcomeUnknown }
        return status == 500 || status == 502 || status == 504 || status == 408
    }

    /// A short, stable label fit for metric dimensions.
    package var shortDescription: String {
        switch kind {
        case .service: return errorCode ?? "http_\(status)"
        case .transport: return "transport_" + (transportError?.shortDescription ?? "unknown")
        case .invalidResponse: return "invalid_response"
        case .invalidRequest: return "invalid_request"
        }
    }

    package var description: String {
        var text = kind == .service ? "HTTP \(status)" : kind.rawValue
        if let errorCode { text += " \(errorCode)" }
        if let failedOperationIndex { text += " (operation \(failedOperationIndex))" }
        text += ": \(message)"
        if let requestID { text += " [request \(requestID)]" }
        return text
    }

    /// Decodes an error answer (`odata.error` of Storage or `error` of ARM), falling back to headers.
    package static func decode(status: Int, headers: HTTPHeaderList, body: [UInt8]) -> AzureError {
        var code = headers["x-ms-error-code"]
        var message = "HTTP \(status)"
        var index: Int? = nil
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let error = (object["odata.error"] ?? object["error"]) as? [String: Any]
        {
            if let c = error["code"] as? String { code = c }
            if let m = error["message"] as? [String: Any], let value = m["value"] as? String {
                message = value
            } else if let m = error["message"] as? String {
                message = m
            }
            // Batch failures prefix the message with the failing operation's index: "2:The specified…".
            if let colon = message.firstIndex(of: ":"), let number = Int(message[..<colon]) {
                index = number
                message = String(message[message.index(after: colon)...])
            }
        }
        if let newline = message.firstIndex(of: "\n") { message = String(message[..<newline]) }
        return AzureError(
            status: status, errorCode: code, message: message,
            requestID: headers["x-ms-request-id"], failedOperationIndex: index)
    }
}
