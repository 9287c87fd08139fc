import Foundation
import IPAMCore
import StrictJSON
import VendorAPI

/// The request-a-network form. It becomes the JSON body `POST /api/getNewNetwork` would have been sent
/// (`getNewNetworkBody`), which the API's own decoder and validation then check, so the console refuses exactly
/// what the API refuses, with its messages.
///
/// Numbers are read as text: a field that is not a number is refused naming it, not as an unreadable form.
struct NetworkRequestForm: ConsoleForm, Equatable {
    var csrf: String?
    var sessionId: String?
    /// Where from: `scope:{partition key}` (a scope's own space) or `pool:{name}`; empty: the default scope.
    var area: String?
    var prefixLength: String?
    /// `v6` for an IPv6 block; anything else IPv4.
    var ipVersion: String?
    /// Present (a checked box) for a dual-stack lease.
    var dualStack: String?
    var prefixLengthV6: String?
    var requester: String?
    /// One `KEY=VALUE` a line.
    var tags: String?
    /// Present (the Preview button) for a dry run: what the request would be handed now, nothing written.
    var preview: String?

    /// The `getNewNetwork` body this form stands for.
    /// - Parameter scopes: the configured scopes (`scope:` names one of them by its partition key or name).
    func getNewNetworkBody(scopes: some Sequence<Scope>) throws(RequestProblem) -> [UInt8] {
        var fields: [(String, JSONValue)] = [("SessionId", .string(Self.trimmed(sessionId) ?? ""))]
        if let area = Self.trimmed(area) {
            if area.hasPrefix("pool:") {
                fields.append(("pool", .string(String(area.dropFirst("pool:".count)))))
            } else if area.hasPrefix("scope:"), let scope = ConsoleScopes.named(String(area.dropFirst(6)), in: scopes) {
                fields += [
                    (scope.cloud == .aws ? "accountId" : "subscriptionId", .string(scope.account)),
                    ("region", .string(scope.region)),
                ]
            } else {
                // Never the default scope instead of one the form names that is not configured.
                throw RequestProblem(
                    code: .unknownScope, field: "area", message: "no scope or pool '\(area)' is configured")
            }
        }
        if let length = try Self.number(prefixLength, "prefixLength") { fields.append(("prefixLength", length)) }
        if Self.trimmed(ipVersion) == "v6" { fields.append(("ipVersion", .string("v6"))) }
        if dualStack != nil { fields.append(("dualStack", .bool(true))) }
        if let length = try Self.number(prefixLengthV6, "prefixLengthV6") {
            fields.append(("prefixLengthV6", length))
        }
        if let requester = Self.trimmed(requester) { fields.append(("requester", .string(requester))) }
        let tags = try Self.tags(tags ?? "")
        if !tags.isEmpty { fields.append(("tags", .object(tags.map { ($0.0, .string($0.1)) }))) }
        return JSONValue.object(fields).serializedBytes
    }

    /// `KEY=VALUE` lines (blank lines skipped, spaces around each kept out), in order; a line without `=`, an
    /// empty key or a key given twice is refused. What a key or value may hold is the API's to check.
    static func tags(_ text: String) throws(RequestProblem) -> [(String, String)] {
        var tags: [(String, String)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw RequestProblem(
                    code: .invalidField, field: "tags", message: "a tag is KEY=VALUE: '\(line)' has no '='")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                throw RequestProblem(code: .invalidField, field: "tags", message: "a tag needs a key: '\(line)'")
            }
            guard !tags.contains(where: { $0.0 == key }) else {
                throw RequestProblem(code: .invalidField, field: "tags.\(key)", message: "tag '\(key)' is given twice")
            }
            tags.append((key, value))
        }
        return tags
    }

    /// A length field as a JSON number; nil when empty; refused when it is not a whole number.
    static func number(_ text: String?, _ field: String) throws(RequestProblem) -> JSONValue? {
        guard let text = trimmed(text) else { return nil }
        guard text.count <= 3, let value = Int(text) else {
            throw RequestProblem(
                code: .invalidField, field: field, message: "'\(field)' must be a whole number, got '\(text)'")
        }
        return .number(String(value))
    }

    /// The text without surrounding spaces; nil when nothing is left.
    static func trimmed(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }
}

/// Making a principal a member of a lease: who, and `member` or `admin`.
struct MemberForm: ConsoleForm, Equatable {
    var csrf: String?
    var principal: String?
    var role: String?
}

/// Ending a principal's membership: who.
struct PrincipalForm: ConsoleForm, Equatable {
    var csrf: String?
    var principal: String?
}

extension ReservationForm {
    /// The `POST /api/reservations` body this form stands for, naming its scope as the API does.
    /// - Parameter scopes: the configured scopes; a scope the form names that is not among them is refused (never
    ///   the default scope instead).
    func reserveBody(scopes: some Sequence<Scope>) throws(RequestProblem) -> [UInt8] {
        var fields: [(String, JSONValue)] = []
        for (name, value) in [("cidr", cidr), ("owner", owner), ("reason", reason), ("expiresAt", expiresAt)] {
            if let value, !value.isEmpty { fields.append((name, .string(value))) }
        }
        if let named = scope.flatMap({ $0.isEmpty ? nil : $0 }) {
            guard let scope = ConsoleScopes.named(named, in: scopes) else {
                throw RequestProblem(
                    code: .unknownScope, field: "scope",
                    message: "No scope '\(named)' is configured: nothing was reserved.")
            }
            fields += [
                (scope.cloud == .aws ? "accountId" : "subscriptionId", .string(scope.account)),
                ("region", .string(scope.region)),
            ]
        }
        return JSONValue.object(fields).serializedBytes
    }
}
