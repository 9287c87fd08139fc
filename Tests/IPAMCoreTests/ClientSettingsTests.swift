import IPAMCore
import Testing

/// What `ipam` and `ipam-mcp` read from the environment (`ClientSettings`).
@Suite("Client settings")
struct ClientSettingsTests {
    @Test("IPAM_VENDOR_URL and IPAM_API_KEY are read; unset or empty is nil; other variables are not read")
    func read() {
        let set = ClientSettings(environment: ["IPAM_VENDOR_URL": "https://ipam.example", "IPAM_API_KEY": "k1"])
        #expect(set == ClientSettings(vendorURL: "https://ipam.example", apiKey: "k1"))
        for empty in [[:], ["IPAM_VENDOR_URL": "", "IPAM_API_KEY": ""]] {
            #expect(ClientSettings(environment: empty) == ClientSettings())
        }
        // The Vendor's own key settings are not a client's key.
        #expect(ClientSettings(environment: ["VENDOR_API_KEYS": "k", "IPAM_URL": "http://x"]) == ClientSettings())
    }

    @Test("the Vendor's URL: --vendor-url, else IPAM_VENDOR_URL, else the local Vendor")
    func vendorURL() {
        let fromEnvironment = ClientSettings(environment: ["IPAM_VENDOR_URL": "http://vendor:8080"])
        #expect(fromEnvironment.vendorURL("http://flag:1") == "http://flag:1")
        #expect(fromEnvironment.vendorURL(nil) == "http://vendor:8080")
        #expect(ClientSettings().vendorURL(nil) == "http://127.0.0.1:7071")
        #expect(ClientSettings.defaultVendorURL == "http://127.0.0.1:7071")
    }
}
