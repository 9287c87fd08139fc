import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import StrictJSON
import VendorAPI
import VendorDomain

/// The host-IP and membership routes of a network lease (`/api/leases/{leaseId}/ips…`, `/members…`).
extension VendorRoutes {
    @Sendable func allocateHostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let asked = try await Self.optionalBody(request, API.HostIPRequest.self) ?? API.HostIPRequest()
        let (answer, created) = try await service.with(logger: context.logger).allocateHostIP(
            leaseId: leaseId, principal: asked.principal, subnet: asked.subnet, caller: caller(context))
        return VendorRouter.answer(created ? .created : .ok, API.HostIP(answer))
    }

    @Sendable func listHostIPs(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let answers = try await service.with(logger: context.logger).hostIPs(leaseId: leaseId, caller: caller(context))
        return VendorRouter.answer(.ok, API.HostIPList(ips: answers.map(API.HostIP.init)))
    }

    @Sendable func hostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let answer = try await service.with(logger: context.logger).hostIP(
            leaseId: leaseId, principal: try pathParameter(context, "principal"), caller: caller(context))
        return VendorRouter.answer(.ok, API.HostIP(answer))
    }

    @Sendable func releaseHostIP(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let principal = try pathParameter(context, "principal")
        let released = try await service.with(logger: context.logger).releaseHostIP(
            leaseId: leaseId, principal: principal, caller: caller(context))
        return VendorRouter.answer(
            .ok,
            API.HostIPRelease(
                principal: released?.principal ?? principal, leaseId: released?.leaseId ?? leaseId.lowercased(),
                address: released.map(API.HostIP.init)))
    }

    @Sendable func listMembers(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let members = try await service.with(logger: context.logger).members(leaseId: leaseId, caller: caller(context))
        return VendorRouter.answer(
            .ok, API.MemberList(leaseId: leaseId.lowercased(), members: members.map(API.Member.init)))
    }

    @Sendable func putMember(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let asked = try await Self.optionalBody(request, API.MemberRequest.self) ?? API.MemberRequest()
        var role = MemberRole.member
        if let text = asked.role {
            guard let parsed = MemberRole(rawValue: text), parsed != .owner else {
                throw VendorError(.invalidField, "'role' must be member or admin", field: "role")
            }
            role = parsed
        }
        let (member, created) = try await service.with(logger: context.logger).putMember(
            leaseId: leaseId, principal: try pathParameter(context, "principal"), role: role, caller: caller(context))
        return VendorRouter.answer(created ? .created : .ok, API.Member(member))
    }

    @Sendable func removeMember(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let leaseId = try pathParameter(context, "leaseId")
        let principal = try pathParameter(context, "principal")
        let removed = try await service.with(logger: context.logger).removeMember(
            leaseId: leaseId, principal: principal, caller: caller(context))
        return VendorRouter.answer(
            .ok, API.MemberRemoval(removed: removed, principal: principal, leaseId: leaseId.lowercased()))
    }

    // MARK: Pieces

    /// The caller as a principal (`anonymous` with authentication disabled).
    func caller(_ context: AuthenticatedRequestContext) -> HostIPCaller {
        HostIPCaller(
            principal: service.redactor.principal(context.caller),
            isAdmin: context.role >= .admin)
    }

    /// A JSON object body decoded strictly as `T`, or nil for an empty body.
    static func optionalBody<T: Decodable>(_ request: Request, _ type: T.Type) async throws(VendorError) -> T? {
        if request.headers[.contentLength] == "0"
            || (request.headers[.contentType] == nil && request.headers[.contentLength] == nil
                && request.headers[.transferEncoding] == nil)
        {
            return nil
        }
        let body = try await VendorRouter.jsonBody(request)
        if body.isEmpty { return nil }
        do { return try WireDecoder.strict.decode(type, from: body) } catch { throw .badRequest(error) }
    }
}
