import Foundation
import StrictJSON
import TestSupport
import Testing

/// The `ipam` binary against a live Vendor (real processes, real sockets).
@Suite("ipam command line")
struct CommandLineTests {
    /// A `vendor` process on fresh storage with these key settings (`VENDOR_API_KEYS` and the like): its URL.
    static func vendor(_ stack: ProcessStack, table: String, keys: [String: String]) async throws -> String {
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName(table), connectionString: storage)
        environment.merge(keys) { _, new in new }
        return try await stack.startVendor(environment: environment)
    }

    static func ipam(_ arguments: [String], vendor: String, key: String? = "cli-key", stderr: Bool = false) async throws
        -> (status: Int32, output: String)
    {
        var environment = ["IPAM_VENDOR_URL": vendor]
        environment["IPAM_API_KEY"] = key ?? ""
        return try await ProcessStack.runToCompletion(
            "ipam", arguments: arguments, environment: environment, capture: stderr ? .standardError : .standardOutput)
    }

    @Test("lease new, replay, show, renew, release; leases with filters and --all; pools; exit codes 0, 1, 2, 3")
    func endToEnd() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let vendor = try await Self.vendor(stack, table: "cli", keys: ["VENDOR_API_KEYS": "cli-key"])

        let created = try await Self.ipam(
            [
                "lease", "new", "--session", "cli-1", "--size", "24", "--subnet", "app=26", "--subnet", "db=27",
                "--tag", "env=dev", "--json",
            ], vendor: vendor)
        #expect(created.status == 0, "\(created.output)")
        let lease = try JSONValue.parse(Array(created.output.utf8))
        let cidr = try #require(lease["cidr"]?.stringValue)
        let id = try #require(lease["leaseId"]?.stringValue)
        #expect(lease["subnets"]?.arrayValue?.count == 2)

        let replay = try await Self.ipam(
            [
                "lease", "new", "--session", "cli-1", "--size", "24", "--subnet", "app=26", "--subnet", "db=27",
                "--tag", "env=dev",
            ], vendor: vendor)
        #expect(
            replay.status == 0 && replay.output.contains(cidr) && replay.output.contains("existing lease (replay)"),
            "\(replay.output)")
        #expect(replay.output.contains("FIELD") && replay.output.contains("subnet"))

        let shown = try await Self.ipam(["lease", "show", "--session", "cli-1"], vendor: vendor)
        #expect(shown.status == 0 && shown.output.contains(id))
        #expect(
            try await Self.ipam(["lease", "show", id, "--json"], vendor: vendor).output.contains(#""cidr":"\#(cidr)""#))
        #expect(try await Self.ipam(["lease", "renew", id], vendor: vendor).status == 0)

        for index in 2...4 {
            #expect(try await Self.ipam(["lease", "new", "--session", "cli-\(index)"], vendor: vendor).status == 0)
        }
        let all = try await Self.ipam(["leases", "--all", "--limit", "1", "--json"], vendor: vendor)
        let listed = try JSONValue.parse(Array(all.output.utf8))
        #expect(listed["leases"]?.arrayValue?.count == 4 && listed["continuation"] == .null, "every page followed")
        let onePage = try await Self.ipam(["leases", "--limit", "1"], vendor: vendor)
        #expect(
            onePage.status == 0 && onePage.output.hasPrefix("CIDR") && onePage.output.contains("(more:"),
            "\(onePage.output)")
        let within = try await Self.ipam(["leases", "--within", cidr, "--state", "leased", "--json"], vendor: vendor)
        #expect((try JSONValue.parse(Array(within.output.utf8)))["leases"]?.arrayValue?.count == 1)
        let pools = try await Self.ipam(["pools"], vendor: vendor)
        #expect(pools.status == 0 && pools.output.contains("SCOPE") && pools.output.contains("/24"))

        #expect(try await Self.ipam(["lease", "release", id], vendor: vendor).status == 0)
        let again = try await Self.ipam(["lease", "release", id], vendor: vendor, stderr: true)
        #expect(
            again.status == 1 && again.output.contains("AlreadyReleased"),
            "the service refused: code and message on stderr")
        let wrongKey = try await Self.ipam(["pools"], vendor: vendor, key: "nope", stderr: true)
        #expect(wrongKey.status == 1 && wrongKey.output.contains("Unauthorized"))
        let usage = try await Self.ipam(["lease", "show"], vendor: vendor, stderr: true)
        #expect(usage.status == 2, "\(usage.output)")
        #expect(
            try await Self.ipam(["lease", "new", "--session", "x", "--subnet", "nolength"], vendor: vendor).status == 2)
        let unreachable = try await Self.ipam(["pools"], vendor: "http://127.0.0.1:9", stderr: true)
        #expect(unreachable.status == 3 && unreachable.output.contains("VendorUnavailable"))
    }

    @Test(
        "lease new --dual-stack (and --size-v6, --ip-version v6): both blocks in the table and in --json; leases shows the pair on one line; ip get shows both addresses"
    )
    func dualStack() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("clids"), connectionString: storage, eastus: #"10.64.0.0/16","fd00:64::/44"#)
        environment["VENDOR_API_KEYS"] = "cli-key"
        let vendor = try await stack.startVendor(environment: environment)

        let created = try await Self.ipam(
            ["lease", "new", "--session", "cli-ds", "--dual-stack", "--size-v6", "60", "--subnet", "app=26", "--json"],
            vendor: vendor)
        #expect(created.status == 0, "\(created.output)")
        let lease = try JSONValue.parse(Array(created.output.utf8))
        let v6 = try #require(lease["cidrV6"]?.stringValue, "\(created.output)")
        #expect(
            v6.hasSuffix("/60") && lease["subnets"]?.arrayValue?.first?["cidrV6"]?.stringValue?.hasSuffix("/64") == true
        )
        let table = try await Self.ipam(["lease", "show", "--session", "cli-ds"], vendor: vendor)
        #expect(table.status == 0 && table.output.contains("cidrV6") && table.output.contains(v6), "\(table.output)")
        let listed = try await Self.ipam(["leases"], vendor: vendor)
        #expect(listed.output.contains("\(lease["cidr"]?.stringValue ?? "?") + \(v6)"), "\(listed.output)")
        let id = try #require(lease["leaseId"]?.stringValue)
        let ip = try await Self.ipam(["ip", "get", "--lease", id], vendor: vendor)
        #expect(
            ip.status == 0 && ip.output.contains("ipV6") && ip.output.contains("subnetCidrV6"),
            "both addresses in the table: \(ip.output)")
        let only6 = try await Self.ipam(
            ["lease", "new", "--session", "cli-v6", "--ip-version", "v6", "--json"], vendor: vendor)
        #expect(
            try JSONValue.parse(Array(only6.output.utf8))["cidr"]?.stringValue?.hasSuffix("/56") == true,
            "\(only6.output)")
        let refused = try await Self.ipam(
            ["lease", "new", "--session", "cli-x", "--dual-stack", "--ip-version", "v6"], vendor: vendor, stderr: true)
        #expect(refused.status == 1 && refused.output.contains("InvalidCombination"), "\(refused.output)")
    }

    @Test(
        "ip get, show, list, release and members add, remove, list against a live Vendor, as the owner and as a member")
    func hostIPs() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let vendor = try await Self.vendor(
            stack, table: "cliip", keys: ["VENDOR_API_KEYS": "owner=owner-key-1,dev=dev-key-1"])
        let created = try await Self.ipam(
            ["lease", "new", "--session", "cli-ip", "--size", "24", "--subnet", "app=26", "--json"], vendor: vendor,
            key: "owner-key-1")
        let id = try #require(try JSONValue.parse(Array(created.output.utf8))["leaseId"]?.stringValue)

        let mine = try await Self.ipam(["ip", "get", "--lease", id, "--json"], vendor: vendor, key: "owner-key-1")
        let ip = try #require(try JSONValue.parse(Array(mine.output.utf8))["ip"]?.stringValue)
        #expect(try JSONValue.parse(Array(mine.output.utf8))["principal"]?.stringValue == "owner")
        let again = try await Self.ipam(["ip", "get", "--lease", id], vendor: vendor, key: "owner-key-1")
        #expect(
            again.status == 0 && again.output.contains(ip) && again.output.contains("already held"), "\(again.output)")
        let refused = try await Self.ipam(["ip", "get", "--lease", id], vendor: vendor, key: "dev-key-1", stderr: true)
        #expect(refused.status == 1 && refused.output.contains("NotAuthorized"), "\(refused.output)")
        #expect(
            try await Self.ipam(["members", "add", "--lease", id, "dev"], vendor: vendor, key: "owner-key-1").status
                == 0)
        #expect(
            try await Self.ipam(
                ["members", "add", "--lease", id, "dev", "--role", "owner"], vendor: vendor, key: "owner-key-1"
            ).status == 2)
        let devs = try await Self.ipam(
            ["ip", "get", "--lease", id, "--subnet", "app"], vendor: vendor, key: "dev-key-1")
        #expect(devs.status == 0 && devs.output.contains("allocated"), "\(devs.output)")
        let vm = try await Self.ipam(
            ["ip", "get", "--lease", id, "--principal", "vm-1"], vendor: vendor, key: "owner-key-1")
        #expect(vm.status == 0)
        let list = try await Self.ipam(["ip", "list", "--lease", id], vendor: vendor, key: "dev-key-1")
        #expect(
            list.output.hasPrefix("IP") && list.output.contains("vm-1") && list.output.contains("dev")
                && list.output.contains(ip), "\(list.output)")
        #expect(
            try await Self.ipam(["ip", "show", "--lease", id, "vm-1"], vendor: vendor, key: "dev-key-1").output
                .contains("vm-1"))
        let roster = try await Self.ipam(["members", "list", "--lease", id], vendor: vendor, key: "dev-key-1")
        #expect(roster.output.contains("owner") && roster.output.contains("vm-1"), "\(roster.output)")
        let released = try await Self.ipam(["ip", "release", "--lease", id], vendor: vendor, key: "dev-key-1")
        #expect(
            released.status == 0 && released.output.contains("released"),
            "a member releases its own: \(released.output)")
        #expect(
            try await Self.ipam(["ip", "release", "--lease", id], vendor: vendor, key: "dev-key-1").output.contains(
                "nothing to do"))
        #expect(
            try await Self.ipam(["members", "remove", "--lease", id, "vm-1"], vendor: vendor, key: "owner-key-1").output
                .contains("no longer a member"))
        #expect(
            try await Self.ipam(["members", "remove", "--lease", id, "vm-1"], vendor: vendor, key: "owner-key-1").output
                .contains("nothing to do"))
        let gone = try await Self.ipam(
            ["ip", "show", "--lease", id, "vm-1"], vendor: vendor, key: "owner-key-1", stderr: true)
        #expect(gone.status == 1 && gone.output.contains("HostIPNotFound"), "its address went with its membership")

        let trail = try await Self.ipam(
            ["events", "--lease", id, "--action", "lease", "--action", "carve-lease", "--json"], vendor: vendor,
            key: "dev-key-1")
        let events = try JSONValue.parse(Array(trail.output.utf8))["events"]?.arrayValue ?? []
        #expect(events.count == 1 && events[0]["actor"]?.stringValue == "owner", "\(trail.output)")
        let table = try await Self.ipam(["events", "--limit", "2"], vendor: vendor, key: "dev-key-1")
        #expect(
            table.status == 0 && table.output.hasPrefix("AT") && table.output.contains("(more: --continuation"),
            "\(table.output)")
    }

    @Test("reserve, reservations and unreserve with an admin key; a lease key is refused")
    func reservations() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let vendor = try await Self.vendor(
            stack, table: "clires", keys: ["VENDOR_API_KEYS": "dev=dev-key-1", "VENDOR_ADMIN_KEYS": "ops=ops-key-1"])
        let made = try await Self.ipam(
            ["reserve", "--cidr", "10.64.250.0/24", "--owner", "net", "--reason", "vpn", "--json"], vendor: vendor,
            key: "ops-key-1")
        #expect(made.status == 0, "\(made.output)")
        let id = try #require(try JSONValue.parse(Array(made.output.utf8))["reservationId"]?.stringValue)
        let listed = try await Self.ipam(["reservations", "--region", "eastus"], vendor: vendor, key: "dev-key-1")
        #expect(
            listed.output.hasPrefix("CIDR") && listed.output.contains("10.64.250.0/24")
                && listed.output.contains("(read-only)"), "\(listed.output)")
        let refused = try await Self.ipam(
            ["reserve", "--size", "26", "--owner", "dev", "--reason", "x"], vendor: vendor, key: "dev-key-1",
            stderr: true)
        #expect(refused.status == 1 && refused.output.contains("Forbidden"))
        let overlap = try await Self.ipam(
            ["reserve", "--cidr", "10.64.250.0/25", "--owner", "net", "--reason", "again"], vendor: vendor,
            key: "ops-key-1", stderr: true)
        #expect(overlap.status == 1 && overlap.output.contains("Overlap"), "\(overlap.output)")
        #expect(
            try await Self.ipam(["reserve", "--owner", "net", "--reason", "none"], vendor: vendor, key: "ops-key-1")
                .status == 2, "--cidr or --size")
        #expect(
            try await Self.ipam(["unreserve", id], vendor: vendor, key: "ops-key-1").output.contains(
                "released 10.64.250.0/24"))
        #expect(
            try await Self.ipam(["unreserve", id], vendor: vendor, key: "ops-key-1").output.contains("nothing to do"))
    }

    @Test(
        "adopt an existing block with an admin key (a replay answers the same lease); overlaps and lease keys refused")
    func adopt() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let vendor = try await Self.vendor(
            stack, table: "cliadopt", keys: ["VENDOR_API_KEYS": "dev=dev-key-1", "VENDOR_ADMIN_KEYS": "ops=ops-key-1"])
        let arguments = [
            "adopt", "--session", "legacy-1", "--cidr", "10.64.240.0/22", "--requester", "migration", "--tag",
            "env=prod",
            "--resource-id",
            "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/legacy",
        ]
        let made = try await Self.ipam(arguments, vendor: vendor, key: "ops-key-1")
        #expect(
            made.status == 0 && made.output.contains("10.64.240.0/22") && made.output.contains("adopted"),
            "\(made.output)")
        let again = try await Self.ipam(arguments + ["--json"], vendor: vendor, key: "ops-key-1")
        #expect(
            try JSONValue.parse(Array(again.output.utf8))["cidr"]?.stringValue == "10.64.240.0/22", "\(again.output)")
        let shown = try await Self.ipam(
            ["lease", "show", "--session", "legacy-1", "--json"], vendor: vendor, key: "ops-key-1")
        #expect(try JSONValue.parse(Array(shown.output.utf8))["tags"]?["env"]?.stringValue == "prod", "\(shown.output)")
        let notTheirs = try await Self.ipam(
            ["lease", "show", "--session", "legacy-1"], vendor: vendor, key: "dev-key-1", stderr: true)
        #expect(
            notTheirs.status == 1 && notTheirs.output.contains("SessionOwnedByAnother"),
            "a SessionId is its creator's: \(notTheirs.output)")
        let overlap = try await Self.ipam(
            ["adopt", "--session", "legacy-2", "--cidr", "10.64.241.0/24"], vendor: vendor, key: "ops-key-1",
            stderr: true)
        #expect(overlap.status == 1 && overlap.output.contains("Overlap"), "\(overlap.output)")
        let refused = try await Self.ipam(
            ["adopt", "--session", "legacy-3", "--cidr", "10.64.236.0/24"], vendor: vendor, key: "dev-key-1",
            stderr: true)
        #expect(refused.status == 1 && refused.output.contains("Forbidden"))
    }
}
