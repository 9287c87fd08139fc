/// Routes another module serves on the Vendor's router (the console, `VendorConsole`): the composition root hands
/// them to `VendorRouter.build`, which registers them after the API's routes, so the edge knows nothing of them.
package protocol VendorRouteRegistrar: Sendable {
    /// Registers the module's routes on `routes`, each with who may call it.
    /// - Parameter authenticator: the edge's: the keys and bearer tokens it accepts now, and the throttle that
    ///   slows down refused credentials.
    func register(on routes: VendorRouteTable, authenticator: Authenticator)
}
