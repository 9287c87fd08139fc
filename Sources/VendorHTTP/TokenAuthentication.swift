import Foundation
import IPAMCore
import StrictJSON
package import TokenAuth

/// Bearer tokens as callers (Entra ID): a verified token's issuer and subject name the caller
/// (`PrincipalName.token`: `jwt:{issuer tag}:{subject}`, never a key's name), and its app roles (the `roles`
/// claim) map to ipam roles; the largest mapped role wins.
package struct TokenAuthentication: Sendable {
    package let verifier: BearerTokenVerifier
    /// App role (as the token carries it) → ipam role.
    package let roleMap: [String: Role]

    /// The map when `AUTH_JWT_ROLE_MAP` is not set: app roles `IPAM.Reader`, `IPAM.Lease`, `IPAM.Admin`.
    package static let defaultRoleMap: [String: Role] = [
        "IPAM.Reader": .reader, "IPAM.Lease": .lease, "IPAM.Admin": .admin,
    ]

    package init(verifier: BearerTokenVerifier, roleMap: [String: Role] = Self.defaultRoleMap) {
        self.verifier = verifier
        self.roleMap = roleMap
    }

    /// Parses `AUTH_JWT_ROLE_MAP`: a JSON object of app role → `reader`, `lease` or `admin`.
    package static func roleMap(parsing text: String) throws(RoleMapError) -> [String: Role] {
        guard let object = (try? JSONValue.parse(text))?.objectValue, !object.isEmpty else {
            throw RoleMapError(
                message: #"must be a JSON object of app role → reader, lease or admin, e.g. {"IPAM.Admin": "admin"}"#)
        }
        var map: [String: Role] = [:]
        for (appRole, value) in object {
            guard let name = value.stringValue, let role = Role.allCases.first(where: { $0.description == name }) else {
                throw RoleMapError(message: "'\(appRole)' maps to \(value.serialized()); use reader, lease or admin")
            }
            map[appRole] = role
        }
        return map
    }

    package struct RoleMapError: Error, Sendable { package let message: String }

    /// The caller and role a token names; 401 when it is not valid, 403 when it carries no mapped role.
    package func authenticate(_ token: String) async throws(VendorError) -> (String, Role) {
        let verified: VerifiedToken
        do { verified = try await verifier.verify(token) } catch {
            throw VendorError(.unauthorized, "the bearer token is not accepted: \(error.reason)")
        }
        let caller = PrincipalName.token(issuer: verifier.issuer, subject: verified.subject)
        guard let role = verified.roles.compactMap({ roleMap[$0] }).max() else {
            throw VendorError(
                .forbidden,
                "the token is valid but carries none of the app roles ipam maps (\(roleMap.keys.sorted().joined(separator: ", ")))",
                details: ["caller": caller])
        }
        return (caller, role)
    }
}
