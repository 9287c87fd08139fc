/// An error answer of the Table service: status, Azure error code and message.
package struct TableServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    package let status: Int
    package let code: String
    package let message: String
    /// For transactions: the zero-based index of the failing operation.
    package var operationIndex: Int?

    package init(status: Int, code: String, message: String, operationIndex: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.operationIndex = operationIndex
    }

    package var description: String { "\(status) \(code): \(message)" }

    static func invalidInput(_ message: String) -> Self { .init(status: 400, code: "InvalidInput", message: message) }
    static let tableNotFound = Self(status: 404, code: "TableNotFound", message: "The table specified does not exist.")
    static let tableExists = Self(
        status: 409, code: "TableAlreadyExists", message: "The table specified already exists.")
    static let entityNotFound = Self(
        status: 404, code: "ResourceNotFound", message: "The specified resource does not exist.")
    static let entityExists = Self(
        status: 409, code: "EntityAlreadyExists", message: "The specified entity already exists.")
    static let conditionFailed = Self(
        status: 412, code: "UpdateConditionNotSatisfied",
        message: "The update condition specified in the request was not satisfied.")
    static let authorizationFailure = Self(
        status: 403, code: "AuthorizationFailure",
        message:
            "Server failed to authenticate the request. Make sure the value of the Authorization header is formed correctly including the signature."
    )
}
