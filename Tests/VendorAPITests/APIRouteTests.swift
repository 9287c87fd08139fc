import Testing

@testable import VendorAPI

@Suite("APIRoute")
struct APIRouteTests {
    @Test("a path's parameters are filled in, each percent-encoded as one segment")
    func fillsParameters() {
        #expect(API.getHostIP.parameters == ["leaseId", "principal"])
        #expect(
            API.getHostIP.path(["leaseId": "00000000-0000-4000-8000-000000000001", "principal": "vm/a b"])
                == "/api/leases/00000000-0000-4000-8000-000000000001/ips/vm%2Fa%20b")
        #expect(API.health.path([:]) == "/healthz")
        #expect(API.hostPing.path([:]) == "/")
        #expect(API.listLeases.parameters.isEmpty)
    }

    @Test("roles are named as x-ipam-role names them")
    func roleNames() {
        #expect(
            [APIRoute.Access.open, .reader, .lease, .admin, .consoleSession].map(\.name) == [
                "open", "reader", "lease", "admin", "console",
            ])
    }
}
