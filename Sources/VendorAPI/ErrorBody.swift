package import IPAMCore
package import StrictJSON

extension API {
    /// The one error shape of every refused request: `{code, message, requestId, field?, details?}`.
    ///
    /// The Vendor renders its errors through it; `VendorClient` reads a refusal's body into it. `details` are
    /// written sorted by name; `field` and `details` are left out when there are none.
    package struct ErrorBody: Sendable, Equatable, Codable {
        /// The machine-readable code (`ErrorCode`'s raw value; a client keeps codes it does not know).
        package var code: String
        package var message: String
        /// The request's id (`x-request-id`); empty where an error has none (a client-side one).
        package var requestId: String
        /// The offending request field, when there is one.
        package var field: String?
        /// Machine-readable facts (e.g. `leaseId`, `state`, `scope`).
        package var details: [String: String]

        package init(
            code: String, message: String, requestId: String = "", field: String? = nil,
            details: [String: String] = [:]
        ) {
            self.code = code
            self.message = message
            self.requestId = requestId
            self.field = field
            self.details = details
        }

        package init(
            _ code: ErrorCode, _ message: String, requestId: String, field: String? = nil,
            details: [String: String] = [:]
        ) {
            self.init(code: code.rawValue, message: message, requestId: requestId, field: field, details: details)
        }

        enum CodingKeys: String, CodingKey {
            case code, message, requestId, field, details
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            code = try container.decode(String.self, forKey: .code)
            message = try container.decode(String.self, forKey: .message)
            requestId = try container.decodeIfPresent(String.self, forKey: .requestId) ?? ""
            field = try container.decodeIfPresent(String.self, forKey: .field)
            details = try container.decodeIfPresent([String: String].self, forKey: .details) ?? [:]
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(requestId, forKey: .requestId)
            if let field { try container.encode(field, forKey: .field) }
            if !details.isEmpty { try container.encode(details, forKey: .details) }
        }

        /// The body as JSON, members in the order above.
        package var json: JSONValue { WireEncoder.json(self) }

        /// The error body an answer carries, or nil when `json` is not one (no `code` or `message` string).
        package init?(json: JSONValue) {
            guard let body = try? WireDecoder.lenient.decode(Self.self, from: json) else { return nil }
            self = body
        }
    }
}
