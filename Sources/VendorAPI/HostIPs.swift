package import Foundation

extension API {
    /// A host address in a network lease (`HostIP` in `openapi/`).
    package struct HostIP: Sendable, Equatable, Codable {
        package var ip: String
        package var principal: String
        package var subnet: String?
        package var subnetCidr: String
        package var leaseId: String
        package var allocatedAt: Date
        package var ipV6: String?
        package var subnetCidrV6: String?

        package init(
            ip: String, principal: String, subnet: String?, subnetCidr: String, leaseId: String, allocatedAt: Date,
            ipV6: String?, subnetCidrV6: String?
        ) {
            self.ip = ip
            self.principal = principal
            self.subnet = subnet
            self.subnetCidr = subnetCidr
            self.leaseId = leaseId
            self.allocatedAt = allocatedAt
            self.ipV6 = ipV6
            self.subnetCidrV6 = subnetCidrV6
        }
    }

    /// `GET /api/leases/{id}/ips`.
    package struct HostIPList: Sendable, Equatable, Codable {
        package var ips: [HostIP]
        package init(ips: [HostIP]) { self.ips = ips }
    }

    /// `POST /api/leases/{id}/ips`: for whom (default: the caller) and in which subnet (default: the first).
    /// Decoded strictly.
    package struct HostIPRequest: Sendable, Equatable, Codable {
        package var principal: String?
        package var subnet: String?

        package enum CodingKeys: String, CodingKey, CaseIterable { case principal, subnet }

        package init(principal: String? = nil, subnet: String? = nil) {
            self.principal = principal
            self.subnet = subnet
        }

        /// Only the members given.
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let principal { try container.encode(principal, forKey: .principal) }
            if let subnet { try container.encode(subnet, forKey: .subnet) }
        }
    }

    /// `DELETE /api/leases/{id}/ips/{principal}` (`HostIPRelease` in `openapi/`): `released` and the address
    /// given back, or `released: false` with the principal and lease when none was held.
    package struct HostIPRelease: Sendable, Equatable, Codable {
        package var released: Bool { address != nil }
        package var principal: String
        package var leaseId: String
        /// The address given back.
        package var address: HostIP?

        package init(principal: String, leaseId: String, address: HostIP?) {
            self.principal = principal
            self.leaseId = leaseId
            self.address = address
        }

        enum CodingKeys: String, CodingKey { case released, principal, leaseId }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            principal = try container.decode(String.self, forKey: .principal)
            leaseId = try container.decode(String.self, forKey: .leaseId)
            address = try container.decode(Bool.self, forKey: .released) ? try HostIP(from: decoder) : nil
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(released, forKey: .released)
            if let address {
                try address.encode(to: encoder)
            } else {
                try container.encode(principal, forKey: .principal)
                try container.encode(leaseId, forKey: .leaseId)
            }
        }
    }

    /// A member of a network lease (`Member` in `openapi/`).
    package struct Member: Sendable, Equatable, Codable {
        package var principal: String
        /// `owner`, `admin` or `member`.
        package var role: String
        package var addedAt: Date?

        package init(principal: String, role: String, addedAt: Date?) {
            self.principal = principal
            self.role = role
            self.addedAt = addedAt
        }
    }

    /// `GET /api/leases/{id}/members`: the owner first.
    package struct MemberList: Sendable, Equatable, Codable {
        package var leaseId: String
        package var members: [Member]
        package init(leaseId: String, members: [Member]) {
            self.leaseId = leaseId
            self.members = members
        }
    }

    /// `PUT /api/leases/{id}/members/{principal}`: the role (`member` or `admin`; default `member`). Decoded
    /// strictly.
    package struct MemberRequest: Sendable, Equatable, Codable {
        package var role: String?

        package enum CodingKeys: String, CodingKey, CaseIterable { case role }

        package init(role: String? = nil) { self.role = role }

        /// Only the members given.
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let role { try container.encode(role, forKey: .role) }
        }
    }

    /// `DELETE /api/leases/{id}/members/{principal}`: `removed` false when it was no member.
    package struct MemberRemoval: Sendable, Equatable, Codable {
        package var removed: Bool
        package var principal: String
        package var leaseId: String
        package init(removed: Bool, principal: String, leaseId: String) {
            self.removed = removed
            self.principal = principal
            self.leaseId = leaseId
        }
    }
}
