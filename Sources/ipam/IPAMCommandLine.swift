import ArgumentParser
import Foundation
import IPAMCore
import StrictJSON
import VendorAPI
import VendorClient

/// `ipam`: the command line for people and scripts, a thin client of the Vendor's HTTP API.
///
/// Exit codes: 0 done, 1 the service refused (its code and message on stderr; `import`: a row failed), 2 usage
/// error, 3 the service could not be reached.
@main
struct IPAMCommandLine {
    static func main() async {
        do {
            var command = try IPAM.parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let failure as VendorClient.Failure {
            FileHandle.standardError.write(Data("ipam: \(failure.code): \(failure.message)\n".utf8))
            if case .refused(_, let body) = failure, let id = API.ErrorBody(json: body)?.requestId, !id.isEmpty {
                FileHandle.standardError.write(Data("ipam: request id \(id)\n".utf8))
            }
            exit(failure.code == "VendorUnavailable" ? 3 : 1)
        } catch let code as ExitCode {
            // A command that reported its own failures (`import`: a row failed).
            exit(code.rawValue)
        } catch {
            let code = IPAM.exitCode(for: error)
            let message = IPAM.fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { print(message) }
                exit(0)
            }
            FileHandle.standardError.write(Data((message.isEmpty ? "ipam: \(error)" : message).utf8 + [10]))
            exit(2)
        }
    }
}

struct IPAM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipam", abstract: "Lease networks from an ipam Vendor.",
        discussion:
            "The Vendor is --vendor-url or IPAM_VENDOR_URL; the API key comes from IPAM_API_KEY. Exit codes: 0 done, 1 refused by the service, 2 usage error, 3 the service could not be reached.",
        // The API contract it speaks: openapi/openapi.yaml's info.version (test_vendor_openapi.py holds them equal).
        version: "0.1.0",
        subcommands: [
            Lease.self, Leases.self, Pools.self, Usage.self, HostIP.self, Members.self, Events.self, Reserve.self,
            Reservations.self, Unreserve.self, Adopt.self, History.self, Import.self, Export.self, Networks.self,
        ])
}

/// The options that were given, as (name, value) pairs for a query or a request body.
func given(_ options: [(String, String?)]) -> [(String, String)] {
    options.compactMap { name, value in value.map { (name, $0) } }
}

/// `--subscription`, `--account` and `--region` of a listing: only the scopes they name.
struct ScopeFilter: ParsableArguments {
    @Option(help: "Only this subscription's scopes.") var subscription: String?
    @Option(help: "Only this AWS account's scopes (12 digits).") var account: String?
    @Option(help: "Only this region's scopes.") var region: String?

    /// The listing's query members they give (to pass through `given`).
    var query: [(String, String?)] { [("subscriptionId", subscription), ("accountId", account), ("region", region)] }
}

/// `--subscription`, `--account` and `--region` of a request: the scope it is made in (the default scope without
/// them).
struct ScopeName: ParsableArguments {
    @Option(help: "Subscription of the scope.") var subscription: String?
    @Option(help: "The AWS account (12 digits) of an AWS scope, instead of --subscription.")
    var account: String?
    @Option(help: "Region of the scope.") var region: String?
}

/// Options every command takes.
struct Connection: ParsableArguments {
    @Option(help: "The Vendor's base URL (default: IPAM_VENDOR_URL, else http://127.0.0.1:7071).") var vendorURL:
        String?
    @Flag(help: "Print the API's JSON unchanged instead of a table.") var json = false

    /// `IPAM_VENDOR_URL` and `IPAM_API_KEY`, read once from this process's environment (its composition root).
    static let settings = ClientSettings(environment: ProcessInfo.processInfo.environment)

    var client: VendorClient {
        VendorClient(baseURL: Self.settings.vendorURL(vendorURL), key: Self.settings.apiKey)
    }

    /// Prints the answer's JSON as it came, or its value through `table` for people.
    func show<Value>(_ answer: VendorClient.Answer<Value>, _ table: (Value) -> String) {
        print(json ? answer.json.serialized() : table(answer.value))
    }
}

/// A lease named by its id, or by `--session` (in the default scope unless `--subscription` or `--account`, and
/// `--region`, name another).
struct LeaseName: ParsableArguments {
    @Argument(help: "The lease id.") var leaseId: String?
    @Option(help: "The SessionId instead of the lease id.") var session: String?
    @Option(help: "The subscription of the session's scope.") var subscription: String?
    @Option(help: "The AWS account (12 digits) of an AWS scope, instead of --subscription.")
    var account: String?
    @Option(help: "The region of the session's scope.") var region: String?

    func validate() throws {
        guard (leaseId == nil) != (session == nil) else {
            throw ValidationError("name the lease by its id or by --session, not both and not neither")
        }
        if leaseId != nil && (subscription != nil || account != nil || region != nil) {
            throw ValidationError("--subscription, --account and --region go with --session")
        }
    }

    var reference: VendorClient.LeaseReference {
        if let leaseId { return .id(leaseId) }
        return .session(session!, subscriptionId: subscription, accountId: account, region: region)
    }
}

struct Lease: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Request, show, renew or release one lease.",
        subcommands: [New.self, Show.self, Renew.self, Release.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Request a network (the same --session again gets the same lease).")
        @OptionGroup var connection: Connection
        @Option(
            help: "The SessionId: make it stable (e.g. from workspace and environment) so retries get the same lease.")
        var session: String
        @Option(help: "Prefix length of the network (of its IPv4 block, with --dual-stack).") var size: Int?
        @Option(name: .customLong("ip-version"), help: "v4 (default) or v6: the network's IP version.") var ipVersion:
            String?
        @Flag(name: .customLong("dual-stack"), help: "An IPv4 and an IPv6 block in one lease (the VNet carries both).")
        var dualStack = false
        @Option(name: .customLong("size-v6"), help: "Prefix length of the IPv6 block of a --dual-stack lease.")
        var sizeV6: Int?
        @OptionGroup var scope: ScopeName
        @Option(
            help:
                "A label for listings, recorded with the lease (a pool's rules and quotas apply to the caller, not to it)."
        ) var requester: String?
        @Option(help: "The pool to take the block from (POOLS_CONFIG), under its rules and quotas.") var pool: String?
        @Option(name: .customLong("subnet"), help: "A subnet of the layout, NAME=PREFIXLENGTH (repeatable).")
        var subnets: [String] = []
        @Option(name: .customLong("tag"), help: "A tag, KEY=VALUE (repeatable).") var tags: [String] = []
        @Flag(
            name: .customLong("dry-run"),
            help: "Only show the block this request would get now (or the lease the session holds); nothing is held.")
        var dryRun = false

        func run() async throws {
            let layout = try subnets.map { text in
                let (name, value) = try Self.pair(text, "--subnet")
                guard let length = Int(value) else {
                    throw ValidationError("--subnet \(text): the prefix length must be a number")
                }
                return API.NewNetworkRequest.Subnet(name: name, prefixLength: length)
            }
            let request = API.NewNetworkRequest(
                sessionId: session, prefixLength: size, ipVersion: ipVersion, dualStack: dualStack ? true : nil,
                prefixLengthV6: sizeV6, subscriptionId: scope.subscription, accountId: scope.account,
                region: scope.region,
                requester: requester,
                tags: try Self.tags(tags), pool: pool, subnets: layout.isEmpty ? nil : layout)
            if dryRun {
                connection.show(try await connection.client.previewNetwork(request)) { Table.preview($0) }
                return
            }
            let answer = try await connection.client.getNewNetwork(request)
            connection.show(answer) {
                Table.lease($0, note: answer.created ? "created" : "existing lease (replay)")
            }
        }

        /// `--tag KEY=VALUE` options, in the order given (nil for none).
        static func tags(_ tags: [String]) throws -> API.Tags? {
            guard !tags.isEmpty else { return nil }
            return API.Tags(
                try tags.map { text in
                    let (name, value) = try pair(text, "--tag")
                    return API.Tags.Entry(name, value)
                })
        }

        static func pair(_ text: String, _ option: String) throws -> (String, String) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw ValidationError("\(option) \(text): use NAME=VALUE")
            }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a lease.")
        @OptionGroup var connection: Connection
        @OptionGroup var name: LeaseName
        func run() async throws {
            connection.show(try await connection.client.lease(name.reference)) { Table.lease($0) }
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Extend a lease that is not anchored yet.")
        @OptionGroup var connection: Connection
        @OptionGroup var name: LeaseName
        func run() async throws {
            connection.show(try await connection.client.renew(name.reference)) { Table.lease($0) }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a lease back (its block is quarantined, then reused).")
        @OptionGroup var connection: Connection
        @OptionGroup var name: LeaseName
        func run() async throws {
            connection.show(try await connection.client.release(name.reference)) { Table.lease($0) }
        }
    }
}

struct Leases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List leases, in address order per scope.")
    @OptionGroup var connection: Connection
    @Option(help: "Only leases in this state (repeatable).") var state: [String] = []
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only blocks inside this CIDR.") var within: String?
    @Option(help: "Only leases of this requester.") var requester: String?
    @Option(help: "Leases per page (1–1000).") var limit: Int?
    @Flag(help: "Follow the continuation to list every page.") var all = false

    func run() async throws {
        var query: [(String, String)] = state.map { ("state", $0) }
        query += given(
            scopes.query + [("within", within), ("requester", requester), ("limit", limit.map(String.init))])
        let client = connection.client
        let page = all ? try await client.allLeases(query) : try await client.leases(query)
        connection.show(page) { Table.leases($0) }
    }
}

struct Pools: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Address space per scope and size, by state.")
    @OptionGroup var connection: Connection
    func run() async throws { connection.show(try await connection.client.pools()) { Table.pools($0) } }
}

/// The network lease host-IP and member commands work on, by id.
struct NetworkLease: ParsableArguments {
    @Option(name: .customLong("lease"), help: "The network lease's id.") var leaseId: String
}

struct HostIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ip", abstract: "Host addresses inside a network lease (one per principal, stable).",
        subcommands: [Get.self, Show.self, List.self, Release.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get an address (the same principal again gets the same one).")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        @Option(help: "For whom (default: you, the API key's name); naming another needs the owner or an admin member.")
        var principal: String?
        @Option(help: "A subnet of the lease's layout (default: the first).") var subnet: String?
        func run() async throws {
            let answer = try await connection.client.getHostIP(
                leaseId: lease.leaseId, principal: principal, subnet: subnet)
            connection.show(answer) { Table.hostIP($0, note: answer.created ? "allocated" : "already held") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the address a principal holds.")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        @Argument(help: "The principal.") var principal: String
        func run() async throws {
            connection.show(try await connection.client.hostIP(leaseId: lease.leaseId, principal: principal)) {
                Table.hostIP($0)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every address of the lease (members only).")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        func run() async throws {
            connection.show(try await connection.client.hostIPs(leaseId: lease.leaseId)) { Table.hostIPs($0) }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a principal's address back (idempotent).")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        @Argument(help: "The principal (yours by default).") var principal: String?
        func run() async throws {
            let client = connection.client
            let name: String
            if let principal {
                name = principal
            } else {
                name = try await client.whoami().value.caller ?? "anonymous"
            }
            let answer = try await client.releaseHostIP(leaseId: lease.leaseId, principal: name)
            connection.show(answer) { answer in
                answer.address.map { Table.hostIP($0, note: "released") }
                    ?? "\(name) held no address in lease \(lease.leaseId) (nothing to do)"
            }
        }
    }
}

struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who may get addresses in a network lease.", subcommands: [Add.self, Remove.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a principal a member, or change its role (the owner or an admin member).")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        @Argument(help: "The principal.") var principal: String
        @Option(help: "member or admin.") var role = "member"
        func validate() throws {
            guard ["member", "admin"].contains(role) else { throw ValidationError("--role is member or admin") }
        }
        func run() async throws {
            connection.show(
                try await connection.client.putMember(leaseId: lease.leaseId, principal: principal, role: role)
            ) { Table.members([$0]) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a membership (its address goes back with it; idempotent).")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        @Argument(help: "The principal.") var principal: String
        func run() async throws {
            let answer = try await connection.client.removeMember(leaseId: lease.leaseId, principal: principal)
            connection.show(answer) {
                $0.removed ? "\(principal) is no longer a member" : "\(principal) was no member (nothing to do)"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The lease's members, the owner first.")
        @OptionGroup var connection: Connection
        @OptionGroup var lease: NetworkLease
        func run() async throws {
            connection.show(try await connection.client.members(leaseId: lease.leaseId)) { Table.members($0.members) }
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The audit trail: who changed what, newest first within each scope.")
    @OptionGroup var connection: Connection
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only events at or after this time (ISO 8601).") var since: String?
    @Option(help: "Only events at or before this time (ISO 8601).") var until: String?
    @Option(help: "Only this action (repeatable), e.g. lease, release, anchor.") var action: [String] = []
    @Option(help: "Only events of this lease.") var lease: String?
    @Option(help: "Only events of this actor (a key's name or a token's subject).") var actor: String?
    @Option(help: "Events per page (1–1000).") var limit: Int?
    @Option(help: "The continuation of a previous page.") var continuation: String?

    func run() async throws {
        var query: [(String, String)] = action.map { ("action", $0) }
        query += given(
            scopes.query + [
                ("since", since), ("until", until), ("leaseId", lease), ("actor", actor),
                ("limit", limit.map(String.init)), ("continuation", continuation),
            ])
        connection.show(try await connection.client.events(query)) { Table.events($0) }
    }
}

struct Usage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A pool's (or a scope's own) usage over time and when it runs out at the current rate.")
    @OptionGroup var connection: Connection
    @Option(help: "The scope's subscription (default: the default scope, or the pool's).") var subscription: String?
    @Option(help: "An AWS scope's account (12 digits), instead of --subscription.") var account: String?
    @Option(help: "The scope's region.") var region: String?
    @Option(help: "A pool (default: the scope's own space outside its pools).") var pool: String?
    @Option(help: "v4 or v6 (default: the pool's version, else v4).") var ipVersion: String?
    @Option(help: "From this time (ISO 8601; default: a day before --until).") var since: String?
    @Option(help: "Until this time (ISO 8601; default: now).") var until: String?
    @Option(help: "Seconds between points (at least 300; at most 1000 points).") var step: Int?

    func run() async throws {
        let query = given([
            ("subscriptionId", subscription), ("accountId", account), ("region", region), ("pool", pool),
            ("ipVersion", ipVersion), ("since", since), ("until", until), ("step", step.map(String.init)),
        ])
        connection.show(try await connection.client.usage(query)) { Table.usage($0) }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who held addresses overlapping a CIDR (or a lease's, or a VNet's), and when: oldest first.")
    @OptionGroup var connection: Connection
    @Argument(help: "The CIDR to look at, e.g. 10.64.4.0/22 (or use --lease / --resource).") var cidr: String?
    @Option(help: "A lease's history instead, by its id.") var lease: String?
    @Option(help: "A VNet's (or VPC's) history instead, by its resource id.") var resource: String?
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only holdings that lasted until this time or later (ISO 8601).") var since: String?
    @Option(help: "Only holdings that began at or before this time (ISO 8601).") var until: String?
    @Option(help: "Entries per page (1–1000).") var limit: Int?
    @Option(help: "The continuation of a previous page.") var continuation: String?

    func validate() throws {
        guard [cidr, lease, resource].compactMap({ $0 }).count == 1 else {
            throw ValidationError("name one CIDR, or --lease, or --resource")
        }
    }

    func run() async throws {
        let query = given(
            [("cidr", cidr), ("leaseId", lease), ("resourceId", resource)] + scopes.query + [
                ("since", since), ("until", until), ("limit", limit.map(String.init)), ("continuation", continuation),
            ])
        connection.show(try await connection.client.history(query)) { Table.history($0) }
    }
}

struct Networks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Every listed VNet and VPC with its compliance status (compliant, unmanaged, noncompliant, ignored) and why, as the Manager last judged it."
    )
    @OptionGroup var connection: Connection
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only networks of this status (repeatable): compliant, unmanaged, noncompliant, ignored.")
    var status: [String] = []
    @Option(help: "Networks per page (1–1000).") var limit: Int?
    @Option(help: "The continuation of a previous page.") var continuation: String?

    func run() async throws {
        let query =
            given(scopes.query)
            + status.map { ("status", $0) }
            + given([("limit", limit.map(String.init)), ("continuation", continuation)])
        connection.show(try await connection.client.networks(query)) { Table.networks($0) }
    }
}

struct Reserve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold a range back from vending (an admin key).")
    @OptionGroup var connection: Connection
    @Option(help: "The range, e.g. 10.64.200.0/24.") var cidr: String?
    @Option(help: "Or: reserve the smallest free block of this prefix length.") var size: Int?
    @Option(help: "Who holds it.") var owner: String
    @Option(help: "Why.") var reason: String
    @Option(help: "When the Manager frees it (ISO 8601); never without.") var expires: String?
    @OptionGroup var scope: ScopeName

    func validate() throws {
        guard (cidr == nil) != (size == nil) else { throw ValidationError("give --cidr or --size") }
    }

    func run() async throws {
        let request = API.ReservationRequest(
            cidr: cidr, prefixLength: size, subscriptionId: scope.subscription, accountId: scope.account,
            region: scope.region,
            owner: owner, reason: reason,
            expiresAt: expires)
        connection.show(try await connection.client.reserve(request)) {
            Table.reservations([$0])
        }
    }
}

struct Adopt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Lease an existing network's block as it is, without renumbering (an admin key; the same --session again gets the same lease)."
    )
    @OptionGroup var connection: Connection
    @Option(help: "The SessionId of the new lease.") var session: String
    @Option(help: "The existing block, e.g. 10.64.240.0/22.") var cidr: String
    @Option(
        name: .customLong("cidr-v6"),
        help: "A dual-stack VNet's IPv6 block: adopted with --cidr as one dual-stack lease.") var cidrV6: String?
    @Option(help: "The VNet's resource id: space the Manager locked for it gives way.") var resourceId: String?
    @OptionGroup var scope: ScopeName
    @Option(help: "Who asks (recorded with the lease).") var requester: String?
    @Option(name: .customLong("tag"), help: "A tag, KEY=VALUE (repeatable).") var tags: [String] = []

    func run() async throws {
        let request = API.AdoptNetworkRequest(
            sessionId: session, cidr: cidr, cidrV6: cidrV6, subscriptionId: scope.subscription,
            accountId: scope.account, region: scope.region,
            requester: requester, tags: try Lease.New.tags(tags), resourceId: resourceId)
        let answer = try await connection.client.adoptNetwork(request)
        connection.show(answer) { Table.lease($0, note: answer.created ? "adopted" : "existing lease (replay)") }
    }
}

struct Reservations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reservations, the configured exclusions first (read-only).")
    @OptionGroup var connection: Connection
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only this owner's.") var owner: String?
    @Option(help: "Only those overlapping this CIDR.") var within: String?

    func run() async throws {
        let query = given(scopes.query + [("owner", owner), ("within", within)])
        connection.show(try await connection.client.reservations(query)) { Table.reservations($0.reservations) }
    }
}

struct Unreserve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End a reservation (idempotent; an admin key).")
    @OptionGroup var connection: Connection
    @Argument(help: "The reservation id.") var reservationId: String
    func run() async throws {
        let answer = try await connection.client.unreserve(reservationId)
        connection.show(answer) {
            $0.released ? "released \(Table.text($0.cidr))" : "no reservation \(reservationId) (nothing to do)"
        }
    }
}
