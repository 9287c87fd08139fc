import Hummingbird
import IPAMCore
import StrictJSON
import VendorAPI
package import VendorDomain
package import VendorHTTP

/// The console on the Vendor's router: its pages when `CONSOLE_SESSION_SECRET` is set (`ConsoleRoutes`), else
/// `GET /console` answering 404 with how to turn it on. The composition root hands it to `VendorRouter.build`.
package struct ConsoleRegistrar: VendorRouteRegistrar {
    let service: VendorService
    let sessions: ConsoleSessions?

    /// - Parameter sessions: the console's session keys and settings; nil: the console is off.
    package init(service: VendorService, sessions: ConsoleSessions?) {
        self.service = service
        self.sessions = sessions
    }

    package func register(on routes: VendorRouteTable, authenticator: Authenticator) {
        if let sessions {
            ConsoleRoutes(service: service, sessions: sessions, authenticator: authenticator).add(to: routes)
        } else {
            routes.add(API.Console.off) { (_, _: VendorRequestContext) in
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
    }
}
