/// What a client of the Vendor (`ipam`, `ipam-mcp`) reads from the environment: where the Vendor is
/// (`IPAM_VENDOR_URL`) and the key to call it with (`IPAM_API_KEY`), each nil when unset or empty.
///
/// Neither is checked here, as `--vendor-url` is not: a URL no Vendor answers at is the client's
/// `VendorUnavailable`, a key the Vendor does not know its `Unauthorized`.
package struct ClientSettings: Sendable, Equatable {
    /// `IPAM_VENDOR_URL`.
    package var vendorURL: String?
    /// `IPAM_API_KEY`.
    package var apiKey: String?

    /// The Vendor a client calls when neither `--vendor-url` nor `IPAM_VENDOR_URL` names one: the local one.
    package static let defaultVendorURL = "http://127.0.0.1:7071"

    package init(vendorURL: String? = nil, apiKey: String? = nil) {
        self.vendorURL = vendorURL
        self.apiKey = apiKey
    }

    package init(environment: [String: String]) {
        self.init(vendorURL: environment[setting: .vendorURL], apiKey: environment[setting: .apiKey])
    }

    /// The Vendor's base URL: `option` (a command-line flag), else `IPAM_VENDOR_URL`, else `defaultVendorURL`.
    package func vendorURL(_ option: String?) -> String { option ?? vendorURL ?? Self.defaultVendorURL }
}
