package import IPAMCore
package import ServerLimits
package import VendorClient

/// What a caller of the Vendor (`ipam-mcp`) builds from the environment, read once: where the Vendor is, the
/// key to call it with, and the limits of the caller's own HTTP server.
package struct VendorCaller: Sendable {
    /// The environment as the process started.
    package let environment: [String: String]
    /// `IPAM_VENDOR_URL` and `IPAM_API_KEY`.
    package let settings: ClientSettings

    package init(environment: [String: String] = Bootstrap.processEnvironment()) {
        self.environment = environment
        settings = ClientSettings(environment: environment)
    }

    /// The Vendor's base URL: `option` (a command-line flag), else `IPAM_VENDOR_URL`, else the local Vendor.
    package func vendorURL(_ option: String?) -> String { settings.vendorURL(option) }

    /// A client of the Vendor at `vendorURL(option)`: with `IPAM_API_KEY` when `withKey`, else with none (each
    /// request then brings its caller's).
    package func client(vendorURL option: String?, withKey: Bool) -> VendorClient {
        VendorClient(baseURL: vendorURL(option), key: withKey ? settings.apiKey : nil)
    }

    /// The limits of this process's HTTP server, or nil after the problems were written to standard error under
    /// `program`'s name (the executable then exits 2).
    package func serverLimits(program: String) -> HTTPServerLimits? {
        HTTPServerLimits.forServerProcess(environment: environment, program: program)
    }
}
