/// The console's lease flows (requesting, renewing and releasing a lease, its members, reservations' confirmation
/// steps): each page that changes something, or asks to confirm a change, and the API operation it performs.
extension API.Console {
    package static let requestPage = page(
        .get, "/console/request", "consoleRequestPage", "The form to request a network (a scope or a pool)")
    package static let request = page(
        .post, "/console/request", "consoleRequest", "Request a network; answers its CIDRs, lease id and tag")
    package static let renewLease = page(
        .post, "/console/leases/{leaseId}/renew", "consoleRenewLease", "Renew a lease")
    package static let releaseLeasePage = page(
        .get, "/console/leases/{leaseId}/release", "consoleReleaseLeasePage",
        "Confirm releasing a lease (names its CIDRs)")
    package static let releaseLease = page(
        .post, "/console/leases/{leaseId}/release", "consoleReleaseLease", "Release a lease")
    package static let members = page(
        .get, "/console/leases/{leaseId}/members", "consoleMembers", "A lease's members, and the form for a new one")
    package static let addMember = page(
        .post, "/console/leases/{leaseId}/members", "consoleAddMember", "Make a principal a member of a lease")
    package static let removeMemberPage = page(
        .get, "/console/leases/{leaseId}/members/remove", "consoleRemoveMemberPage",
        "Confirm ending a principal's membership")
    package static let removeMember = page(
        .post, "/console/leases/{leaseId}/members/remove", "consoleRemoveMember", "End a principal's membership")
    package static let reservePage = page(
        .get, "/console/reservations/new", "consoleReservePage", "Confirm a reservation (names its CIDR)")
    package static let releasePage = page(
        .get, "/console/reservations/{reservationId}/release", "consoleReleasePage",
        "Confirm ending a reservation (names its CIDR)")

    /// The lease flows' pages, in `routes`.
    static let flows: [APIRoute] = [
        requestPage, request, renewLease, releaseLeasePage, releaseLease, members, addMember, removeMemberPage,
        removeMember, reservePage, releasePage,
    ]

    /// The API operation each console page that changes something (or asks to confirm a change) performs, through
    /// the same service call: the console allows it to exactly the roles that operation's declaration admits, so
    /// a role given or taken from an API route is given or taken in the console too (`ConsoleFlowsTests` tries
    /// every pair with every role).
    package static let performs: [APIRoute: APIRoute] = [
        requestPage: API.getNewNetwork, request: API.getNewNetwork,
        renewLease: API.renewLease,
        releaseLeasePage: API.releaseNetwork, releaseLease: API.releaseNetwork,
        members: API.listMembers, addMember: API.putMember,
        removeMemberPage: API.removeMember, removeMember: API.removeMember,
        reservePage: API.reserve, reserve: API.reserve,
        releasePage: API.unreserve, release: API.unreserve,
    ]
}
