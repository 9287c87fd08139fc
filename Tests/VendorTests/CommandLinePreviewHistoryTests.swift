import Foundation
import StrictJSON
import TestSupport
import Testing
import VendorHTTP

/// `ipam lease new --dry-run` and `ipam history` (the real binary) against a live Vendor over HTTP.
@Suite("ipam lease new --dry-run and ipam history")
struct CommandLinePreviewHistoryTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "dev=lease-key-1", admin: "ops=admin-key-1")

    static func ipam(_ arguments: [String], _ url: String, key: String = "lease-key-1", stderr: Bool = false)
        async throws -> (status: Int32, output: String)
    {
        try await CommandLineTests.ipam(arguments, vendor: url, key: key, stderr: stderr)
    }

    static func json(_ output: String) throws -> JSONValue { try JSONValue.parse(Array(output.utf8)) }

    @Test(
        "lease new --dry-run names the block the real request then gets and holds nothing; a held session shows its lease; a refusal is the real request's"
    )
    func leasePreview() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let arguments = ["lease", "new", "--session", "p-1", "--size", "24", "--subnet", "app=26"]
            let preview = try await Self.ipam(arguments + ["--dry-run", "--json"], url)
            #expect(preview.status == 0, "\(preview.output)")
            let planned = try Self.json(preview.output)
            let cidr = try #require(planned["cidr"]?.stringValue)
            #expect(
                planned["dryRun"] == .bool(true) && planned["heldLease"] == .null
                    && planned["subnets"]?.arrayValue?.count == 1, "\(preview.output)")
            let table = try await Self.ipam(arguments + ["--dry-run"], url)
            #expect(
                table.output.contains(cidr) && table.output.contains("nothing is held")
                    && table.output.contains("pool"),
                "\(table.output)")
            let listed = try await Self.ipam(["leases", "--json"], url, key: "reader-key-1")
            #expect(try Self.json(listed.output)["leases"]?.arrayValue == [], "a dry run holds nothing")

            let made = try await Self.ipam(arguments + ["--json"], url)
            let lease = try Self.json(made.output)
            #expect(lease["cidr"]?.stringValue == cidr, "the real request gets the block the dry run named")
            let leaseId = try #require(lease["leaseId"]?.stringValue)
            let held = try await Self.ipam(arguments + ["--dry-run", "--json"], url)
            #expect(try Self.json(held.output)["heldLease"]?["leaseId"]?.stringValue == leaseId, "\(held.output)")
            let heldTable = try await Self.ipam(arguments + ["--dry-run"], url)
            #expect(heldTable.output.contains("already holds this lease") && heldTable.output.contains(leaseId))

            // Refusals are the real request's: the same code and message, nothing held.
            for refused in [
                ["lease", "new", "--session", "p-2", "--size", "8"],
                ["lease", "new", "--session", "p-1", "--size", "25"],
                ["lease", "new", "--session", "p-3", "--region", "mars"],
                ["lease", "new", "--session", "bad session"],
            ] {
                let dry = try await Self.ipam(refused + ["--dry-run"], url, stderr: true)
                let real = try await Self.ipam(refused, url, stderr: true)
                #expect(dry.status == 1 && real.status == 1, "\(refused): \(dry.output)")
                #expect(
                    dry.output.split(separator: "\n").first == real.output.split(separator: "\n").first,
                    "\(refused): \(dry.output) vs \(real.output)")
            }
            let reader = try await Self.ipam(arguments + ["--dry-run"], url, key: "reader-key-1", stderr: true)
            #expect(reader.status == 1 && reader.output.contains("Forbidden"), "\(reader.output)")
            #expect(try await Self.ipam(["lease", "new", "--dry-run"], url, stderr: true).status == 2, "no --session")
        }
    }

    @Test(
        "history by CIDR, --lease and --resource: each holding with its states, oldest first; table and --json; bad input refused with the field"
    )
    func history() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let made = try Self.json(
                try await Self.ipam(["lease", "new", "--session", "h-1", "--size", "24", "--json"], url).output)
            let (cidr, leaseId) = (
                try #require(made["cidr"]?.stringValue), try #require(made["leaseId"]?.stringValue)
            )
            #expect(try await Self.ipam(["lease", "release", leaseId], url).status == 0)
            let resource =
                "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/old"
            let adopted = try await Self.ipam(
                ["adopt", "--session", "h-adopt", "--cidr", "10.64.240.0/22", "--resource-id", resource, "--json"], url,
                key: "admin-key-1")
            let adoptedId = try #require(try Self.json(adopted.output)["leaseId"]?.stringValue, "\(adopted.output)")

            let all = try Self.json(
                try await Self.ipam(["history", "10.64.0.0/16", "--json"], url, key: "reader-key-1").output)
            let entries = all["entries"]?.arrayValue ?? []
            let first = try #require(entries.first { $0["leaseId"]?.stringValue == leaseId }, "\(all)")
            let states = first["states"]?.arrayValue?.compactMap { $0["state"]?.stringValue } ?? []
            #expect(first["cidr"]?.stringValue == cidr && states.first == "leased" && states.count >= 2, "\(first)")
            #expect(first["states"]?.arrayValue?.first?["to"] != .null, "the leased state ended with the release")
            let adoption = try #require(entries.first { $0["leaseId"]?.stringValue == adoptedId })
            #expect(adoption["kind"]?.stringValue == "adoption" && adoption["resourceId"]?.stringValue == resource)
            #expect(adoption["states"]?.arrayValue?.last?["to"] == .null, "still held")
            let starts = entries.compactMap { $0["states"]?.arrayValue?.first?["from"]?.stringValue }
            #expect(starts == starts.sorted(), "oldest first: \(starts)")

            let byLease = try Self.json(
                try await Self.ipam(["history", "--lease", leaseId, "--json"], url, key: "reader-key-1").output)
            #expect(
                byLease["entries"]?.arrayValue?.allSatisfy { $0["leaseId"]?.stringValue == leaseId } == true
                    && byLease["entries"]?.arrayValue?.isEmpty == false, "\(byLease)")
            let byResource = try Self.json(
                try await Self.ipam(["history", "--resource", resource, "--json"], url, key: "reader-key-1").output)
            #expect(
                byResource["entries"]?.arrayValue?.map { $0["leaseId"]?.stringValue } == [adoptedId], "\(byResource)")
            let table = try await Self.ipam(["history", cidr], url, key: "reader-key-1")
            #expect(
                table.status == 0 && table.output.contains(cidr) && table.output.contains(leaseId), "\(table.output)")
            let paged = try Self.json(
                try await Self.ipam(["history", "10.64.0.0/16", "--limit", "1", "--json"], url, key: "reader-key-1")
                    .output)
            let continuation = try #require(paged["continuation"]?.stringValue, "\(paged)")
            let next = try Self.json(
                try await Self.ipam(
                    ["history", "10.64.0.0/16", "--limit", "1", "--continuation", continuation, "--json"], url,
                    key: "reader-key-1"
                ).output)
            #expect(next["entries"]?.arrayValue?.first != paged["entries"]?.arrayValue?.first)

            // Bad input: the Vendor's code and field on stderr, exit 1; a usage error exits 2.
            for (arguments, code) in [
                (["history", "10.64.1.0/16"], "InvalidQuery"),
                (
                    ["history", "10.64.0.0/16", "--since", "2026-12-02T00:00:00Z", "--until", "2026-12-01T00:00:00Z"],
                    "InvalidQuery"
                ),
                (["history", "10.64.0.0/16", "--region", "mars"], "UnknownScope"),
                (["history", "--lease", "not-a-lease"], "InvalidQuery"),
            ] {
                let refused = try await Self.ipam(arguments, url, key: "reader-key-1", stderr: true)
                #expect(refused.status == 1 && refused.output.contains(code), "\(arguments): \(refused.output)")
            }
            #expect(try await Self.ipam(["history"], url, key: "reader-key-1", stderr: true).status == 2)
            #expect(try await Self.ipam(["history", cidr, "--lease", leaseId], url, key: "reader-key-1").status == 2)
            #expect(try await Self.ipam(["history", cidr], url, key: "nope", stderr: true).status == 1)
        }
    }
}
