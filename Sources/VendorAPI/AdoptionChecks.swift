package import IPAMCore
package import NetworkMath

extension API.AdoptNetworkRequest {
    /// The adoption's scope and blocks, its members read in the order the Vendor always has: `SessionId`, `cidr`
    /// (parsed, any size), the scope's members, `requester`, `tags`, `resourceId` (a network of the scope's cloud),
    /// `cidrV6` (parsed, the IPv6 block beside an IPv4 `cidr`); a member refused by itself (`refusals`) is raised
    /// when it is read. The Vendor's validation and `ipam import`'s check of a row are this one definition, so a
    /// row is refused with the code, field and message the Vendor would answer.
    ///
    /// - Parameters:
    ///   - resolveScope: the scope the members name, called where they are read: the Vendor resolves it against
    ///     its configuration; a client without one refuses what it can tell and says which cloud is named.
    ///   - cloud: the cloud of the resolved scope, whose networks `resourceId` must name; nil checks no cloud.
    package func checked<Resolved>(
        resolveScope: () throws(RequestProblem) -> Resolved, cloud: (Resolved) -> Cloud?
    ) throws(RequestProblem) -> (scope: Resolved, prefix: IPPrefix, prefixV6: IPPrefix?) {
        try refusals.check("SessionId")
        try refusals.check("cidr")
        let prefix: IPPrefix
        do { prefix = try IPPrefix(parsing: cidr) } catch {
            throw RequestProblem(code: .invalidField, field: "cidr", message: "\(error)")
        }
        try refusals.check("subscriptionId")
        try refusals.check("accountId")
        try refusals.check("region")
        let scope = try resolveScope()
        try refusals.check("requester")
        try refusals.check("tags")
        try refusals.check("resourceId")
        if let resourceId, let cloud = cloud(scope),
            let problem = API.Members.resourceIdProblem(resourceId, cloud: cloud)
        {
            throw problem
        }
        try refusals.check("cidrV6")
        guard let cidrV6 else { return (scope, prefix, nil) }
        let prefixV6: IPPrefix
        do { prefixV6 = try IPPrefix(parsing: cidrV6) } catch {
            throw RequestProblem(code: .invalidField, field: "cidrV6", message: "\(error)")
        }
        guard prefix.version == .v4, prefixV6.version == .v6 else {
            throw RequestProblem(
                code: .invalidCombination, field: "cidrV6",
                message: "a dual-stack network is adopted with its IPv4 block as 'cidr' and its IPv6 block as 'cidrV6'")
        }
        return (scope, prefix, prefixV6)
    }
}
