import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import StrictJSON
import VendorDomain

/// The host-IP and membership routes of a network lease (`/api/leases/{leaseId}/ips…`, `/members…`).
extension VendorRoutes {
    @Sendable func allocateHostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let fields = try await Self.optionalFields(request, allowed: ["principal", "subnet"])
        let (answer, created) = try await service.with(logger: context.logger).allocateHostIP(
            leaseId: leaseId, principal: try Self.text(fields, "principal"), subnet: try Self.text(fields, "subnet"),
            caller: caller(context))
        return VendorRouter.jsonResponse(created ? .created : .ok, Self.hostIPJSON(answer))
    }

    @Sendable func listHostIPs(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let answers = try await service.with(logger: context.logger).hostIPs(leaseId: leaseId, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, .object([("ips", .array(answers.map(Self.hostIPJSON)))]))
    }

    @Sendable func hostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let answer = try await service.with(logger: context.logger).hostIP(
            leaseId: leaseId, principal: try pathParameter(context, "principal"), caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.hostIPJSON(answer))
    }

    @Sendable func releaseHostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let principal = try pathParameter(context, "principal")
        let released = try await service.with(logger: context.logger).releaseHostIP(
            leaseId: leaseId, principal: principal, caller: caller(context))
        guard let released else {
            return VendorRouter.jsonResponse(
                .ok,
                .object([
                    ("released", .bool(false)), ("principal", .string(principal)),
                    ("leaseId", .string(leaseId.lowercased())),
                ]))
        }
        return VendorRouter.jsonResponse(
            .ok, .object([("released", .bool(true))] + (Self.hostIPJSON(released).objectValue ?? [])))
    }

    @Sendable func listMembers(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let members = try await service.with(logger: context.logger).members(leaseId: leaseId, caller: caller(context))
        return VendorRouter.jsonResponse(
            .ok,
            .object([("leaseId", .string(leaseId.lowercased())), ("members", .array(members.map(Self.memberJSON)))]))
    }

    @Sendable func putMember(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let fields = try await Self.optionalFields(request, allowed: ["role"])
        var role = MemberRole.member
        if let text = try Self.text(fields, "role") {
            guard let parsed = MemberRole(rawValue: text), parsed != .owner else {
                throw VendorError(.invalidField, "'role' must be member or admin", field: "role")
            }
            role = parsed
        }
        let (member, created) = try await service.with(logger: context.logger).putMember(
            leaseId: leaseId, principal: try pathParameter(context, "principal"), role: role, caller: caller(context))
        return VendorRouter.jsonResponse(created ? .created : .ok, Self.memberJSON(member))
    }

    @Sendable func removeMember(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let principal = try pathParameter(context, "principal")
        let removed = try await service.with(logger: context.logger).removeMember(
            leaseId: leaseId, principal: principal, caller: caller(context))
        return VendorRouter.jsonResponse(
            .ok,
            .object([
                ("removed", .bool(removed)), ("principal", .string(principal)),
                ("leaseId", .string(leaseId.lowercased())),
            ]))
    }

    // MARK: Pieces

    /// The caller as a principal (`anonymous` with authentication disabled).
    func caller(_ context: AuthenticatedRequestContext) -> HostIPCaller {
        HostIPCaller(
            principal: service.redactor.principal(context.caller),
            isAdmin: context.role >= .admin)
    }

    /// A JSON object body's fields (names lower-cased), or none for an empty body.
    static func optionalFields(_ request: Request, allowed: Set<String>) async throws(VendorError) -> [String:
        JSONValue]
    {
        if request.headers[.contentLength] == "0"
            || (request.headers[.contentType] == nil && request.headers[.contentLength] == nil
                && request.headers[.transferEncoding] == nil)
        {
            return [:]
        }
        let body = try await VendorRouter.jsonBody(request)
        if body.isEmpty { return [:] }
        do { return try LeaseRequestDecoder.fields(body, allowed: allowed) } catch { throw .badRequest(error) }
    }

    static func text(_ fields: [String: JSONValue], _ name: String) throws(VendorError) -> String? {
        guard let value = fields[name] else { return nil }
        guard let text = value.stringValue else {
            throw VendorError(.invalidField, "'\(name)' must be a string", field: name)
        }
        return text
    }

    static func hostIPJSON(_ answer: HostIPAnswer) -> JSONValue {
        .object([
            ("ip", .string(answer.ip.description)), ("principal", .string(answer.principal)),
            ("subnet", answer.subnet.map(JSONValue.string) ?? .null),
            ("subnetCidr", .string(answer.subnetPrefix.description)), ("leaseId", .string(answer.leaseId)),
            ("allocatedAt", .string(ISO8601.format(answer.allocatedAt))),
            ("ipV6", answer.ipV6.map { .string($0.description) } ?? .null),
            ("subnetCidrV6", answer.subnetPrefixV6.map { .string($0.description) } ?? .null),
        ])
    }

    static func memberJSON(_ member: MemberAnswer) -> JSONValue {
        .object([
            ("principal", .string(member.principal)), ("role", .string(member.role.rawValue)),
            ("addedAt", member.addedAt.map { .string(ISO8601.format($0)) } ?? .null),
        ])
    }
}
