import Hummingbird
import IPAMCore
import StrictJSON

extension VendorRoutes {

    /// Every route, registered with who may call it: this is where a route's role is declared (and
    /// `x-ipam-role` in `openapi/` says the same). Looking needs `reader`; changing a lease needs `lease`;
    /// reservations, adoption and webhook deliveries need `admin`. Host-IP routes also need membership of the
    /// lease (checked by the handler). Paths are spelled as in `openapi/` and are the metric route labels.
    func table(authentication: AuthenticationMiddleware) -> VendorRouteTable {
        let routes = VendorRouteTable(authentication: authentication)
        routes.add(.get, "/", .open) { _, _ in Response(status: .ok) } // the Functions host pings the handler here
        routes.add(.get, "/healthz", .open) { _, _ in
            VendorRouter.jsonResponse(.ok, .object([("status", .string("ok"))]))
        }
        routes.add(.get, "/readyz", .open, use: ready)
        routes.add(.get, "/metrics", .reader, use: metrics)
        routes.add(.post, "/api/getNewNetwork", .lease, use: getNewNetwork)
        routes.add(.post, "/api/adoptNetwork", .admin, use: adoptNetwork)
        routes.add(.get, "/api/webhooks/{name}/deliveries", .admin, use: webhookDeliveries)
        routes.add(.get, "/api/whoami", .reader) { _, context in
            VendorRouter.jsonResponse(.ok, .object([("caller", .string(context.caller))]))
        }
        routes.add(.get, "/api/leases", .reader, use: listLeases)
        routes.add(.get, "/api/events", .reader, use: listEvents)
        routes.add(.post, "/api/reservations", .admin, use: reserve)
        routes.add(.get, "/api/reservations", .reader, use: listReservations)
        routes.add(.delete, "/api/reservations/{reservationId}", .admin, use: unreserve)
        routes.add(.get, "/api/leases/{leaseId}", .reader, use: leaseByID)
        routes.add(.delete, "/api/leases/{leaseId}", .lease, use: deleteLease)
        routes.add(.get, "/api/sessions/{sessionId}", .reader, use: leaseBySession)
        routes.add(.post, "/api/releaseNetwork", .lease, use: release)
        routes.add(.post, "/api/renewLease", .lease, use: renew)
        routes.add(.get, "/api/pools", .reader, use: pools)
        routes.add(.post, "/api/leases/{leaseId}/ips", .lease, use: allocateHostIP)
        routes.add(.get, "/api/leases/{leaseId}/ips", .reader, use: listHostIPs)
        routes.add(.get, "/api/leases/{leaseId}/ips/{principal}", .reader, use: hostIP)
        routes.add(.delete, "/api/leases/{leaseId}/ips/{principal}", .lease, use: releaseHostIP)
        routes.add(.get, "/api/leases/{leaseId}/members", .reader, use: listMembers)
        routes.add(.put, "/api/leases/{leaseId}/members/{principal}", .lease, use: putMember)
        routes.add(.delete, "/api/leases/{leaseId}/members/{principal}", .lease, use: removeMember)
        if let console {
            console.add(to: routes)
        } else {
            routes.add(.get, "/console", .open) { _, _ in
                VendorRouter.jsonResponse(
                    .notFound,
                    .object([
                        ("code", .string(ErrorCode.notFound.rawValue)),
                        (
                            "message",
                            .string(
                                "the console is off: set CONSOLE_SESSION_SECRET (at least \(ConsoleSessions.minimumSecretLength) characters)"
                            )
                        ),
                    ]))
            }
        }
        return routes
    }
}
