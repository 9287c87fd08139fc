import Foundation
import Inventory
import StrictJSON
import TestSupport
import Testing

/// `ipam networks`, the `ipam` binary against a Vendor whose table holds statuses as a Manager records them.
@Suite("ipam networks")
struct NetworksCommandTests {
    @Test(
        "a table, --json as the API answers it, --status and --limit passed on; a bad status and an unknown scope are the Vendor's refusals (exit 1)"
    )
    func networks() async throws {
        typealias Listing = NetworkListingTests
        try await VendorHarness.withVendor(roleKeys: Listing.keys) { url, table, _ in
            let inventory = Inventory(table: table, actor: "manager-test")
            _ = try await inventory.recordNetworkStatuses(
                Listing.east, in: Listing.eastus, complete: true, now: Listing.start)
            let shown = try await CommandLineTests.ipam(
                ["networks", "--region", "eastus"], vendor: url, key: "reader-key-1")
            #expect(
                shown.status == 0 && shown.output.hasPrefix("STATUS") && shown.output.contains("noncompliant")
                    && shown.output.contains("10.64.200.0/24") && shown.output.contains("anchored to lease l-1"),
                "\(shown.output)")
            let json = try await CommandLineTests.ipam(
                ["networks", "--status", "noncompliant", "--status", "ignored", "--json"], vendor: url,
                key: "reader-key-1")
            let answer = try JSONValue.parse(Array(json.output.utf8))
            #expect(
                answer["networks"]?.arrayValue?.compactMap { $0["resourceId"]?.stringValue } == [Listing.vnet("far")],
                "\(json.output)")
            let paged = try await CommandLineTests.ipam(["networks", "--limit", "1"], vendor: url, key: "reader-key-1")
            #expect(paged.status == 0 && paged.output.contains("(more: --continuation"), "\(paged.output)")
            let refused = try await CommandLineTests.ipam(
                ["networks", "--status", "fine"], vendor: url, key: "reader-key-1", stderr: true)
            #expect(refused.status == 1 && refused.output.contains("InvalidQuery"), "\(refused.output)")
            let unknown = try await CommandLineTests.ipam(
                ["networks", "--region", "mars"], vendor: url, key: "reader-key-1", stderr: true)
            #expect(unknown.status == 1 && unknown.output.contains("UnknownScope"), "\(unknown.output)")
            let anonymous = try await CommandLineTests.ipam(["networks"], vendor: url, key: nil, stderr: true)
            #expect(anonymous.status == 1, "no key: \(anonymous.output)")
        }
    }
}
