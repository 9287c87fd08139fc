import Hummingbird
import VendorAPI

extension VendorRoutes {

    /// Every route, registered against its declaration in `API` (VendorAPI), which gives its method, path and
    /// who may call it (`x-ipam-role` in `openapi/` says the same; `OpenAPIAgreementTests` checks). Looking needs
    /// `reader`; changing a lease needs `lease`; reservations, adoption and webhook deliveries need `admin`.
    /// Host-IP routes also need membership of the lease (checked by the handler). Paths are spelled as in
    /// `openapi/` and are the metric route labels.
    func table(authentication: AuthenticationMiddleware) -> VendorRouteTable {
        let routes = VendorRouteTable(authentication: authentication)
        // the Functions host pings the handler here
        routes.add(API.hostPing) { (_, _: VendorRequestContext) in Response(status: .ok) }
        routes.add(API.health) { (_, _: VendorRequestContext) in VendorRouter.answer(.ok, API.Health()) }
        routes.add(API.ready, use: ready)
        routes.add(API.metrics, use: metrics)
        routes.add(API.getNewNetwork, use: getNewNetwork)
        routes.add(API.adoptNetwork, use: adoptNetwork)
        routes.add(API.webhookDeliveries, use: webhookDeliveries)
        routes.add(API.whoami) { (_, context: AuthenticatedRequestContext) in
            VendorRouter.answer(.ok, API.WhoAmI(caller: context.caller))
        }
        routes.add(API.listLeases, use: listLeases)
        routes.add(API.listEvents, use: listEvents)
        routes.add(API.reserve, use: reserve)
        routes.add(API.listReservations, use: listReservations)
        routes.add(API.unreserve, use: unreserve)
        routes.add(API.getLease, use: leaseByID)
        routes.add(API.deleteLease, use: deleteLease)
        routes.add(API.getSession, use: leaseBySession)
        routes.add(API.releaseNetwork, use: release)
        routes.add(API.renewLease, use: renew)
        routes.add(API.getPools, use: pools)
        routes.add(API.getUsage, use: usage)
        routes.add(API.allocateHostIP, use: allocateHostIP)
        routes.add(API.listHostIPs, use: listHostIPs)
        routes.add(API.getHostIP, use: hostIP)
        routes.add(API.releaseHostIP, use: releaseHostIP)
        routes.add(API.listMembers, use: listMembers)
        routes.add(API.putMember, use: putMember)
        routes.add(API.removeMember, use: removeMember)
        routes.add(API.addressHistory, use: addressHistory)
        routes.add(API.listNetworks, use: listNetworks)
        return routes
    }
}
