/// The Vendor's API: every route, declared once (method, path, role, `operationId`, summary), and its request
/// and answer types (in the other files of this module, as `API.…`).
///
/// `routes` is exactly the operations of `openapi/openapi.yaml` (`OpenAPIAgreementTests` checks both ways);
/// `consoleRoutes` are the console's HTML pages, which the spec does not describe.
package enum API {
    // MARK: Leases

    package static let getNewNetwork = APIRoute(
        .post, "/api/getNewNetwork", .lease, operationId: "getNewNetwork",
        summary: "Lease a network block (idempotent per SessionId)")
    package static let adoptNetwork = APIRoute(
        .post, "/api/adoptNetwork", .admin, operationId: "adoptNetwork",
        summary: "Lease an existing network's block as it is (idempotent per SessionId)")
    package static let listLeases = APIRoute(
        .get, "/api/leases", .reader, operationId: "listLeases",
        summary: "Leases, in address order per scope, a page at a time")
    package static let getLease = APIRoute(
        .get, "/api/leases/{leaseId}", .reader, operationId: "getLease", summary: "A lease by id")
    package static let deleteLease = APIRoute(
        .delete, "/api/leases/{leaseId}", .lease, operationId: "deleteLease", summary: "Release a lease (idempotent)")
    package static let getSession = APIRoute(
        .get, "/api/sessions/{sessionId}", .reader, operationId: "getSession",
        summary:
            "The lease of one of the caller's SessionIds (default scope unless subscriptionId/region name another)")
    package static let releaseNetwork = APIRoute(
        .post, "/api/releaseNetwork", .lease, operationId: "releaseNetwork",
        summary: "Release a lease (it goes to quarantine); a repeat answers 410 with the final state")
    package static let renewLease = APIRoute(
        .post, "/api/renewLease", .lease, operationId: "renewLease",
        summary: "Extend a lease that is not anchored yet to now + the lease duration")

    // MARK: Host addresses and members of a network lease

    package static let allocateHostIP = APIRoute(
        .post, "/api/leases/{leaseId}/ips", .lease, operationId: "allocateHostIP",
        summary: "A host address inside a network lease (stable per principal)")
    package static let listHostIPs = APIRoute(
        .get, "/api/leases/{leaseId}/ips", .reader, operationId: "listHostIPs",
        summary: "Every host address of a network lease (members only)")
    package static let getHostIP = APIRoute(
        .get, "/api/leases/{leaseId}/ips/{principal}", .reader, operationId: "getHostIP",
        summary: "The address a principal holds in a network lease (members only)")
    package static let releaseHostIP = APIRoute(
        .delete, "/api/leases/{leaseId}/ips/{principal}", .lease, operationId: "releaseHostIP",
        summary: "Give a principal's address back (idempotent)")
    package static let listMembers = APIRoute(
        .get, "/api/leases/{leaseId}/members", .reader, operationId: "listMembers",
        summary: "The members of a network lease, the owner first (members only)")
    package static let putMember = APIRoute(
        .put, "/api/leases/{leaseId}/members/{principal}", .lease, operationId: "putMember",
        summary: "Make a principal a member (or change its role), by the owner or an admin member")
    package static let removeMember = APIRoute(
        .delete, "/api/leases/{leaseId}/members/{principal}", .lease, operationId: "removeMember",
        summary: "End a principal's membership (its address goes back with it; idempotent)")

    // MARK: Reservations, pools, events, webhooks

    package static let reserve = APIRoute(
        .post, "/api/reservations", .admin, operationId: "reserve",
        summary: "Hold a range back from vending (operators)")
    package static let listReservations = APIRoute(
        .get, "/api/reservations", .reader, operationId: "listReservations",
        summary: "Reservations, the configured exclusions first (read-only)")
    package static let unreserve = APIRoute(
        .delete, "/api/reservations/{reservationId}", .admin, operationId: "unreserve",
        summary: "End a reservation (idempotent); its range is free space again")
    package static let getPools = APIRoute(
        .get, "/api/pools", .reader, operationId: "getPools",
        summary: "Per scope and size, rows by state, and the scope's free address space")
    package static let getUsage = APIRoute(
        .get, "/api/usage", .reader, operationId: "getUsage",
        summary: "An area's usage over time (the Manager's samples) and when it runs out at the current rate")
    package static let listEvents = APIRoute(
        .get, "/api/events", .reader, operationId: "listEvents",
        summary: "The audit trail, newest first within each scope (scopes in order), filtered and paged")
    package static let webhookDeliveries = APIRoute(
        .get, "/api/webhooks/{name}/deliveries", .admin, operationId: "webhookDeliveries",
        summary: "Where a webhook's deliveries stand, per scope, and its dead letters")

    // MARK: The process

    package static let whoami = APIRoute(
        .get, "/api/whoami", .reader, operationId: "whoami",
        summary: "Who the credential names (checks a key without touching storage)")
    package static let metrics = APIRoute(
        .get, "/metrics", .reader, operationId: "metrics", summary: "Prometheus metrics of this Vendor process")
    package static let addressHistory = APIRoute(
        .get, "/api/history", .reader, operationId: "getAddressHistory",
        summary: "Who held addresses overlapping a CIDR (or a lease's, or a VNet's), and when: oldest first, paged")
    package static let listNetworks = APIRoute(
        .get, "/api/networks", .reader, operationId: "listNetworks",
        summary: "Every listed VNet and VPC with its compliance status (the Manager's last judgement), paged")
    package static let hostPing = APIRoute(
        .get, "/", .open, operationId: "hostPing",
        summary: "Liveness ping of the Azure Functions host (custom handler); an empty 200")
    package static let health = APIRoute(.get, "/healthz", .open, operationId: "health", summary: "The process is up")
    package static let ready = APIRoute(
        .get, "/readyz", .open, operationId: "ready", summary: "Storage is reachable and the table exists")

    /// Every operation of `openapi/openapi.yaml`.
    package static let routes: [APIRoute] = [
        hostPing, health, ready, metrics, getNewNetwork, adoptNetwork, webhookDeliveries, whoami, listLeases,
        listEvents, reserve, listReservations, unreserve, getLease, deleteLease, getSession, releaseNetwork,
        renewLease, getPools, getUsage, allocateHostIP, listHostIPs, getHostIP, releaseHostIP, listMembers, putMember,
        removeMember, addressHistory, listNetworks,
    ]

    // MARK: The console's pages (HTML, not in openapi/)

    /// The console's pages, which check the console session themselves.
    package enum Console {
        package static let signInPage = page(.get, "/console/signin", "consoleSignInPage", "The sign-in form")
        package static let signIn = page(.post, "/console/signin", "consoleSignIn", "Sign in with a key or token")
        package static let signOut = page(.post, "/console/signout", "consoleSignOut", "End the console session")
        package static let dashboard = page(.get, "/console", "consoleDashboard", "The dashboard")
        package static let space = page(.get, "/console/space", "consoleSpace", "Address space per scope and pool")
        package static let pools = page(
            .get, "/console/pools", "consolePools",
            "Pools: the hierarchy, each pool's rules, quota, usage per requester, stock and forecast")
        package static let leases = page(.get, "/console/leases", "consoleLeases", "Leases, filtered, sorted and paged")
        package static let leasesCSV = page(
            .get, "/console/leases.csv", "consoleLeasesCSV", "The filtered leases as CSV, in the table's order")
        package static let lease = page(
            .get, "/console/leases/{leaseId}", "consoleLease",
            "One lease: its events, address history, host addresses and members")
        package static let reservations = page(
            .get, "/console/reservations", "consoleReservations", "Reservations, and the form for a new one")
        package static let reserve = page(.post, "/console/reservations", "consoleReserve", "Make a reservation")
        package static let release = page(
            .post, "/console/reservations/{reservationId}/release", "consoleRelease", "End a reservation")
        package static let audit = page(.get, "/console/audit", "consoleAudit", "The audit trail, filtered and paged")
        package static let drift = page(
            .get, "/console/drift", "consoleDrift",
            "The Manager's last drift report: each finding's compliance and next run")
        package static let script = page(
            .get, "/console/assets/console.js", "consoleScript",
            "The console's script: progressive enhancement of signed-in pages (Copy buttons)")
        /// `GET /console` while the console is off (no `CONSOLE_SESSION_SECRET`): open, answers 404.
        package static let off = APIRoute(
            .get, "/console", .open, operationId: "consoleOff",
            summary: "The console is off: 404 saying how to turn it on")

        /// Every page of the console (when it is on).
        package static let routes: [APIRoute] =
            [
                signInPage, signIn, signOut, dashboard, space, pools, leases, leasesCSV, lease, reservations, reserve,
                release,
                audit, drift, script,
            ] + flows

        static func page(_ method: APIRoute.Method, _ path: String, _ id: String, _ summary: String) -> APIRoute {
            APIRoute(method, path, .consoleSession, operationId: id, summary: summary)
        }
    }
}
