package import MCP
import StrictJSON
import VendorAPI
package import VendorClient

/// The MCP tools and resources of ipam: each a thin call of the Vendor's HTTP API through `VendorClient`,
/// so an agent gets exactly what the API gives (same leases, same idempotency, same refusals).
package enum IPAMTools {
    /// A refusal before the Vendor was asked (the arguments do not fit the tool's input schema).
    struct InvalidArguments: Error {
        let message: String
        let field: String?
    }

    // MARK: Schemas

    static let sessionId: Value = .object([
        "type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$",
        "description":
            "Idempotency key: the same sessionId with the same arguments always gets the same lease. Make it stable (e.g. from the environment's name).",
    ])
    static let leaseId: Value = .object(["type": "string", "description": "A lease id (UUID)."])
    static let scopeArguments: [String: Value] = [
        "subscriptionId": .object([
            "type": "string", "description": "Subscription of the scope (default: the configured default scope).",
        ]),
        "accountId": .object([
            "type": "string",
            "description": "AWS account (12 digits) of an AWS scope, instead of subscriptionId.",
        ]),
        "region": .object([
            "type": "string", "description": "Region of the scope, e.g. eastus (Azure) or us-east-1 (AWS).",
        ]),
    ]
    static let nullableString: Value = .object(["type": .array(["string", "null"])])

    /// The lease as `GET /api/leases/{id}` and the listing answer it.
    static let leaseRecord: Value = .object([
        "type": "object",
        "required": .array(["leaseId", "cidr", "state", "scope"]),
        "properties": .object([
            "leaseId": nullableString, "sessionId": nullableString, "cidr": .object(["type": "string"]),
            "cidrV6": nullableString, "prefixLength": .object(["type": "integer"]),
            "scope": .object(["type": "string"]), "subscription": .object(["type": "string"]),
            "cloud": .object(["type": "string"]), "accountId": .object(["type": "string"]),
            "region": .object(["type": "string"]),
            "state": .object(["type": "string"]), "leasedAt": nullableString, "expiresAt": nullableString,
            "anchoredAt": nullableString,
            "resourceId": nullableString, "requester": nullableString,
            "tags": .object(["type": "object", "additionalProperties": .object(["type": "string"])]),
            "pool": nullableString,
        ]),
    ])

    /// The answer of `POST /api/getNewNetwork`.
    static let newLease: Value = .object([
        "type": "object",
        "required": .array(["leaseId", "sessionId", "cidr", "prefixLength", "scope", "state", "tag", "subnets"]),
        "properties": .object([
            "leaseId": .object(["type": "string"]), "sessionId": .object(["type": "string"]),
            "cidr": .object(["type": "string"]), "cidrV6": nullableString,
            "prefixLength": .object(["type": "integer"]),
            "prefixLengthV6": .object(["type": .array(["integer", "null"])]), "scope": .object(["type": "string"]),
            "subscription": .object(["type": "string"]), "cloud": .object(["type": "string"]),
            "accountId": .object(["type": "string"]),
            "region": .object(["type": "string"]), "state": .object(["type": "string"]), "expiresAt": nullableString,
            "tag": .object([
                "type": "object", "required": .array(["name", "value"]),
                "properties": .object(["name": .object(["type": "string"]), "value": .object(["type": "string"])]),
            ]),
            "subnets": subnets,
        ]),
    ])

    /// A lease's (or a preview's) subnets: name, IPv4 CIDR, IPv6 CIDR or null.
    static let subnets: Value = .object([
        "type": "array",
        "items": .object([
            "type": "object", "required": .array(["name", "cidr"]),
            "properties": .object([
                "name": .object(["type": "string"]), "cidr": .object(["type": "string"]), "cidrV6": nullableString,
            ]),
        ]),
    ])

    /// The answer of `POST /api/getNewNetwork` with `"dryRun": true`.
    static let preview: Value = .object([
        "type": "object",
        "required": .array(["dryRun", "sessionId", "cidr", "prefixLength", "scope", "subnets", "heldLease"]),
        "properties": .object([
            "dryRun": .object(["type": "boolean"]), "sessionId": .object(["type": "string"]),
            "heldLease": .object([
                "type": .array(["object", "null"]),
                "description":
                    "The lease the sessionId already holds (leaseId, state, expiresAt); null for a new block.",
            ]),
            "cidr": .object(["type": "string"]), "cidrV6": nullableString,
            "prefixLength": .object(["type": "integer"]),
            "prefixLengthV6": .object(["type": .array(["integer", "null"])]), "scope": .object(["type": "string"]),
            "subscription": .object(["type": "string"]), "cloud": .object(["type": "string"]),
            "accountId": .object(["type": "string"]), "region": .object(["type": "string"]),
            "pool": nullableString,
            "subnets": subnets,
        ]),
    ])

    static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        var schema: [String: Value] = [
            "type": "object", "properties": .object(properties), "additionalProperties": false,
        ]
        if !required.isEmpty { schema["required"] = .array(required.map(Value.string)) }
        return .object(schema)
    }

    static let reference: [String: Value] = scopeArguments.merging(["leaseId": leaseId, "sessionId": sessionId]) {
        a, _ in a
    }

    static func string(_ description: String? = nil) -> Value {
        var schema: [String: Value] = ["type": "string"]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static func integer(_ minimum: Int, _ maximum: Int, _ description: String? = nil) -> Value {
        var schema: [String: Value] = ["type": "integer", "minimum": .int(minimum), "maximum": .int(maximum)]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// A tool whose annotations carry its title, say whether it only reads and whether it destroys, and call
    /// repeating it harmless (`idempotentHint`) and the world closed (`openWorldHint: false`).
    static func tool(
        name: String, title: String, description: String, input: Value, readOnly: Bool, destructive: Bool = false,
        output: Value
    ) -> Tool {
        Tool(
            name: name, title: title, description: description, inputSchema: input,
            annotations: Tool.Annotations(
                title: title, readOnlyHint: readOnly, destructiveHint: destructive, idempotentHint: true,
                openWorldHint: false),
            outputSchema: output)
    }

    static let states: Value = .array([
        "available", "leased", "anchored", "released", "quarantined", "expired", "occupied", "reserved",
    ])

    static let getNewNetworkInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["sessionId"] = sessionId
        properties["prefixLength"] = integer(8, 128, "Size of the block (default: the configured default).")
        properties["requester"] = string(
            "A label for listings, recorded with the lease (a pool's rules and quotas apply to the caller, not to it).")
        properties["tags"] = .object(["type": "object", "additionalProperties": string()])
        properties["pool"] = string(
            "A configured pool to take the block from, under its rules and quotas (see ipam://pools).")
        properties["ipVersion"] = .object([
            "type": "string", "enum": .array(["v4", "v6"]), "description": "The block's IP version (default v4).",
        ])
        properties["dualStack"] = .object([
            "type": "boolean",
            "description":
                "An IPv4 block (prefixLength) and an IPv6 block (prefixLengthV6) in one lease: the answer has cidr and cidrV6, and each subnet a /64 too.",
        ])
        properties["prefixLengthV6"] = integer(
            48, 64, "Size of a dual-stack lease's IPv6 block (default: the configured default).")
        let subnet: Value = object(
            ["name": string(), "prefixLength": integer(8, 128)], required: ["name", "prefixLength"])
        properties["subnets"] = .object([
            "type": "array", "description": "A subnet layout to carve inside the block.", "items": subnet,
        ])
        return object(properties, required: ["sessionId"])
    }()

    static let listLeasesInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["scope"] = string("A scope as {subscriptionId}_{region}, or aws_{accountId}_{region}.")
        properties["state"] = .object(["type": "array", "items": .object(["type": "string", "enum": states])])
        properties["requester"] = string()
        properties["within"] = string("Only blocks inside this CIDR, e.g. 10.64.0.0/16.")
        properties["limit"] = integer(1, 1000)
        properties["continuation"] = string("The continuation of the previous page.")
        return object(properties)
    }()

    static let listEventsInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["since"] = string("Only events at or after this time (ISO 8601).")
        properties["until"] = string("Only events at or before this time (ISO 8601).")
        properties["action"] = .object([
            "type": "array", "items": .object(["type": "string"]),
            "description": "Only these actions, e.g. lease, release, anchor.",
        ])
        properties["leaseId"] = leaseId
        properties["actor"] = string("Only this actor (a key's name or a token's subject).")
        properties["limit"] = integer(1, 1000)
        properties["continuation"] = string("The continuation of the previous page.")
        return object(properties)
    }()

    static let usageInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["pool"] = string("A pool (default: the scope's own space outside its pools).")
        properties["ipVersion"] = .object([
            "type": "string", "enum": .array(["v4", "v6"]),
            "description": "The IP version (default: the pool's, else v4).",
        ])
        properties["since"] = string("From this time (ISO 8601; default: a day before until).")
        properties["until"] = string("Until this time (ISO 8601; default: now).")
        properties["step"] = integer(300, 63_158_400, "Seconds between points (at most 1000 points).")
        return object(properties)
    }()

    static let historyInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["cidr"] = string("The block to look at (no host bits), e.g. 10.64.4.0/22.")
        properties["leaseId"] = leaseId
        properties["resourceId"] = string("A VNet's (or VPC's) resource id.")
        properties["since"] = string("Only holdings that lasted until this time or later (ISO 8601).")
        properties["until"] = string("Only holdings that began at or before this time (ISO 8601).")
        properties["limit"] = integer(1, 1000)
        properties["continuation"] = string("The continuation of the previous page.")
        return object(properties)
    }()

    static let historyPage: Value = .object([
        "type": "object", "required": .array(["entries", "continuation"]),
        "properties": .object([
            "entries": .object(["type": "array", "items": .object(["type": "object"])]),
            "continuation": nullableString,
        ]),
    ])

    /// `list_networks`: the query of `GET /api/networks`.
    static let listNetworksInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["scope"] = string("A scope as {subscriptionId}_{region}, or aws_{accountId}_{region}.")
        properties["status"] = .object([
            "type": "array",
            "items": .object([
                "type": "string", "enum": .array(["compliant", "unmanaged", "noncompliant", "ignored"]),
            ]),
            "description": "Only networks of these statuses.",
        ])
        properties["limit"] = integer(1, 1000)
        properties["continuation"] = string("The continuation of the previous page.")
        return object(properties)
    }()

    static let networkPage: Value = .object([
        "type": "object", "required": .array(["networks", "continuation"]),
        "properties": .object([
            "networks": .object([
                "type": "array",
                "items": .object([
                    "type": "object", "required": .array(["resourceId", "scope", "cidrs", "status", "reason"]),
                ]),
            ]),
            "continuation": nullableString,
        ]),
    ])

    static let reserveInput: Value = {
        var properties: [String: Value] = scopeArguments
        properties["cidr"] = string("The range, e.g. 10.64.200.0/24.")
        properties["prefixLength"] = integer(1, 128, "Or: the smallest free block of this size.")
        properties["owner"] = string("Who holds it.")
        properties["reason"] = string("Why.")
        properties["expiresAt"] = string("When it is freed (ISO 8601); never without.")
        return object(properties, required: ["owner", "reason"])
    }()

    static let eventPage: Value = .object([
        "type": "object", "required": .array(["events", "continuation"]),
        "properties": .object([
            "events": .object(["type": "array", "items": .object(["type": "object"])]), "continuation": nullableString,
        ]),
    ])

    static let leasePage: Value = .object([
        "type": "object", "required": .array(["leases", "continuation"]),
        "properties": .object([
            "leases": .object(["type": "array", "items": leaseRecord]), "continuation": nullableString,
        ]),
    ])
    static let poolList: Value = .object([
        "type": "object", "required": .array(["pools"]), "properties": .object(["pools": .object(["type": "array"])]),
    ])

    static let principal: Value = .object([
        "type": "string", "pattern": "^[A-Za-z0-9._:@-]{1,128}$",
        "description":
            "For whom (default: you, the API key's name). Naming another (a VM, a service account) needs the lease's owner or an admin member.",
    ])
    static let hostIPFields: [String: Value] = [
        "ip": string(), "principal": string(), "subnet": nullableString, "subnetCidr": string(), "leaseId": string(),
        "allocatedAt": string(),
        "ipV6": nullableString, "subnetCidrV6": nullableString,
    ]
    static let hostIP: Value = .object([
        "type": "object", "required": .array(["ip", "principal", "subnet", "subnetCidr", "leaseId", "allocatedAt"]),
        "properties": .object(hostIPFields),
    ])
    static let hostIPRelease: Value = .object([
        "type": "object", "required": .array(["released", "principal", "leaseId"]),
        "properties": .object(hostIPFields.merging(["released": .object(["type": "boolean"])]) { a, _ in a }),
    ])

    /// Every tool, with its title, description, schemas and annotations.
    package static let tools: [Tool] = [
        tool(
            name: "get_new_network", title: "Get a network",
            description:
                "Lease a network block (CIDR) nobody else holds, for a bounded time. Idempotent per sessionId: calling again with the same sessionId and arguments returns the same lease (and renews it). Put the answer's tag on the VNet you deploy so ipam anchors the lease to it (a dualStack lease's VNet carries both cidr and cidrV6).",
            input: getNewNetworkInput, readOnly: false, output: newLease),
        tool(
            name: "preview_network", title: "Preview a network",
            description:
                "The block get_new_network would hand out now for the same arguments (after the pool's rules, quotas, reservations and exclusions), or the lease the sessionId already holds; nothing is written or held, so the block may go to someone else before you ask for it. A refusal is exactly what get_new_network would answer.",
            input: getNewNetworkInput, readOnly: true, output: preview),
        tool(
            name: "get_lease", title: "Look up a lease",
            description:
                "A lease by leaseId, or by sessionId (in the default scope unless subscriptionId or accountId, and region, name another).",
            input: object(reference), readOnly: true, output: leaseRecord),
        tool(
            name: "list_leases", title: "List leases",
            description:
                "Leases in address order per scope, filtered; pass the answer's continuation to get the next page.",
            input: listLeasesInput, readOnly: true, output: leasePage),
        tool(
            name: "renew_lease", title: "Renew a lease",
            description: "Extend a lease that is not anchored yet to now + the lease duration.",
            input: object(reference), readOnly: false, output: leaseRecord),
        tool(
            name: "release_network", title: "Release a network",
            description:
                "Give a lease back: its block is quarantined, then reused. Idempotent: releasing again answers the lease's final state.",
            input: object(reference), readOnly: false, destructive: true, output: leaseRecord),
        tool(
            name: "list_pools", title: "List pools",
            description:
                "Address space per scope and per configured pool (its rules, quotas and what each caller holds), by size and state, and the free space left.",
            input: object(scopeArguments), readOnly: true, output: poolList),
        tool(
            name: "get_usage", title: "Get usage over time",
            description:
                "A pool's (or a scope's own) address space over time, from the Manager's samples: addresses by state (leased, anchored, occupied, reserved, quarantined, available, free), live leases, free blocks per configured size; and the forecast of when it runs out at the current rate (last 7 and 30 days: runs-out with runsOutAt and daysLeft, not-running-out, or insufficient-data).",
            input: usageInput, readOnly: true,
            output: .object([
                "type": "object", "required": .array(["scope", "samples", "forecast"]),
                "properties": .object([
                    "scope": .object(["type": "string"]), "samples": .object(["type": "array"]),
                    "forecast": .object(["type": "object"]),
                ]),
            ])),
        tool(
            name: "list_events", title: "List audit events",
            description:
                "The audit trail: every change with its actor, state before and after, and request id; newest first within each scope. Filter by time (since/until, ISO 8601), action, leaseId or actor; pass the answer's continuation for the next page.",
            input: listEventsInput, readOnly: true, output: eventPage),
        tool(
            name: "address_history", title: "Address history",
            description:
                "Who held addresses overlapping a CIDR, and when: every lease, adoption, reservation and unmanaged VNet's occupation of an overlapping block, with its lease id, session, requester, VNet and each state it went through (from, to), oldest first. Name exactly one of cidr, leaseId (one lease's blocks) and resourceId (one VNet's); since/until keep what lasted into that window; pass the answer's continuation for the next page.",
            input: historyInput, readOnly: true, output: historyPage),
        tool(
            name: "list_networks", title: "List networks and their compliance",
            description:
                "Every network (Azure VNet, AWS VPC) the scopes' clouds list, with its compliance status as the Manager last judged it and why: compliant (its space is exactly its lease's blocks, anchored), unmanaged (no lease names it: its space is held, never vended), noncompliant (outside the scope's supernets, overlapping another network or another lease's block, or tagged with a lease it does not match), ignored (in an excluded range). Filter by scope and status; pass the answer's continuation for the next page.",
            input: listNetworksInput, readOnly: true, output: networkPage),
        Tool(
            name: "reserve_range", title: "Reserve a range",
            description:
                "Hold a range back from vending (admin keys only): a cidr, or the smallest free block of a prefixLength, with an owner and a reason, optionally until expiresAt (ISO 8601). A range that overlaps anything but free space or stock is refused (Overlap, listing each conflict).",
            inputSchema: reserveInput,
            annotations: Tool.Annotations(
                title: "Reserve a range", readOnlyHint: false, destructiveHint: false, idempotentHint: false,
                openWorldHint: false),
            outputSchema: .object(["type": "object", "required": .array(["reservationId", "cidr"])])),
        tool(
            name: "get_host_ip", title: "Get a host IP",
            description:
                "An address for a principal inside a network lease (a VM, a container, you): the same principal always gets the same address back until it releases it. The caller must be a member of the lease (its owner is).",
            input: object(
                [
                    "leaseId": leaseId, "principal": principal,
                    "subnet": string("A subnet of the lease's layout (default: the first)."),
                ], required: ["leaseId"]), readOnly: false, output: hostIP),
        tool(
            name: "release_host_ip", title: "Release a host IP",
            description:
                "Give a principal's address in a network lease back. Idempotent: releasing what is not held does nothing (released: false). A member releases its own; the owner or an admin member anyone's.",
            input: object(["leaseId": leaseId, "principal": principal], required: ["leaseId"]), readOnly: false,
            destructive: true, output: hostIPRelease),
    ]

    // MARK: Calls

    /// Runs one tool against the Vendor. Refusals (the Vendor's, or invalid arguments) and an unreachable
    /// Vendor are results with `isError: true` and `{code, message, …}` as structured content.
    package static func call(_ name: String, arguments: [String: Value]?, client: VendorClient) async -> CallTool.Result
    {
        let arguments = arguments ?? [:]
        do {
            guard let tool = tools.first(where: { $0.name == name }) else {
                throw InvalidArguments(message: "no tool named '\(name)'", field: nil)
            }
            try check(arguments, against: tool)
            return success(try await run(name, arguments, client))
        } catch let failure as VendorClient.Failure {
            return refusal(failure.json)
        } catch let invalid as InvalidArguments {
            var members: [(String, JSONValue)] = [
                ("code", .string("InvalidArguments")), ("message", .string(invalid.message)),
            ]
            if let field = invalid.field { members.append(("field", .string(field))) }
            return refusal(.object(members))
        } catch {
            return refusal(.object([("code", .string("InternalError")), ("message", .string("\(error)"))]))
        }
    }

    static func run(_ name: String, _ arguments: [String: Value], _ client: VendorClient) async throws -> JSONValue {
        func string(_ key: String) -> String? { arguments[key]?.stringValue }
        switch name {
        case "get_new_network":
            let body = body(arguments, members: API.NewNetworkRequest.CodingKeys.allCases.map(\.stringValue))
            return try await client.answer(API.Lease.self, API.getNewNetwork, body: body).json
        case "preview_network":
            var members =
                body(arguments, members: API.NewNetworkRequest.CodingKeys.allCases.map(\.stringValue))
                .objectValue ?? []
            members.append(("dryRun", .bool(true)))
            return try await client.answer(API.NetworkPreview.self, API.getNewNetwork, body: .object(members)).json
        case "get_lease":
            return try await client.lease(try reference(arguments)).json
        case "renew_lease":
            return try await client.renew(try reference(arguments)).json
        case "release_network":
            // By id through DELETE, which answers the final state on every call (idempotent).
            switch try reference(arguments) {
            case .id(let id): return try await client.delete(leaseId: id).json
            case let named:
                let lease = try await client.lease(named)
                guard let id = lease.value.leaseId else {
                    throw InvalidArguments(message: "the session has no lease", field: "sessionId")
                }
                return try await client.delete(leaseId: id).json
            }
        case "list_leases":
            var query: [(String, String)] = []
            for key in ["subscriptionId", "accountId", "region", "scope", "requester", "within", "continuation"] {
                if let value = string(key) { query.append((key, value)) }
            }
            if let limit = arguments["limit"]?.intValue { query.append(("limit", String(limit))) }
            for state in arguments["state"]?.arrayValue ?? [] {
                if let text = state.stringValue { query.append(("state", text)) }
            }
            return try await client.leases(query).json
        case "reserve_range":
            let body = body(arguments, members: API.ReservationRequest.CodingKeys.allCases.map(\.stringValue))
            return try await client.answer(API.Reservation.self, API.reserve, body: body).json
        case "get_usage":
            var query: [(String, String)] = []
            for key in ["subscriptionId", "accountId", "region", "pool", "ipVersion", "since", "until"] {
                if let value = string(key) { query.append((key, value)) }
            }
            if let step = arguments["step"]?.intValue { query.append(("step", String(step))) }
            return try await client.usage(query).json
        case "list_events":
            var query: [(String, String)] = []
            for key in ["subscriptionId", "accountId", "region", "since", "until", "leaseId", "actor", "continuation"] {
                if let value = string(key) { query.append((key, value)) }
            }
            if let limit = arguments["limit"]?.intValue { query.append(("limit", String(limit))) }
            for action in arguments["action"]?.arrayValue ?? [] {
                if let text = action.stringValue { query.append(("action", text)) }
            }
            return try await client.events(query).json
        case "address_history":
            var query: [(String, String)] = []
            for key in [
                "cidr", "leaseId", "resourceId", "subscriptionId", "accountId", "region", "since", "until",
                "continuation",
            ] {
                if let value = string(key) { query.append((key, value)) }
            }
            if let limit = arguments["limit"]?.intValue { query.append(("limit", String(limit))) }
            return try await client.history(query).json
        case "list_networks":
            var query: [(String, String)] = []
            for key in ["subscriptionId", "accountId", "region", "scope", "continuation"] {
                if let value = string(key) { query.append((key, value)) }
            }
            for status in arguments["status"]?.arrayValue ?? [] {
                if let text = status.stringValue { query.append(("status", text)) }
            }
            if let limit = arguments["limit"]?.intValue { query.append(("limit", String(limit))) }
            return try await client.networks(query).json
        case "get_host_ip":
            return try await client.getHostIP(
                leaseId: string("leaseId")!, principal: string("principal"), subnet: string("subnet")
            ).json
        case "release_host_ip":
            var principal = string("principal")
            if principal == nil { principal = try await client.whoami().value.caller }
            return try await client.releaseHostIP(leaseId: string("leaseId")!, principal: principal ?? "anonymous").json
        case "list_pools":
            let pools = try await client.pools()
            let subscription = string("subscriptionId")?.lowercased()
            let account = string("accountId")
            let region = string("region")?.lowercased()
            let kept = pools.value.pools.filter { report in
                (subscription == nil || report.subscription == subscription)
                    && (account == nil || report.accountId == account)
                    && (region == nil || report.region == region)
            }
            return WireEncoder.json(API.Pools(pools: kept))
        default:
            throw InvalidArguments(message: "no tool named '\(name)'", field: nil)
        }
    }

    /// A tool argument's name for a member of a request body: the body's name, but `sessionId` for `SessionId`.
    static func argumentName(_ member: String) -> String { member == "SessionId" ? "sessionId" : member }

    /// The request body of a tool's arguments, passed on as the agent gave them (the Vendor judges the values,
    /// so its refusals reach the agent unchanged): each member of the API's request type the arguments give, in
    /// the type's order.
    static func body(_ arguments: [String: Value], members: [String]) -> JSONValue {
        .object(
            members.compactMap { member in
                arguments[argumentName(member)].map { (member, JSONBridge.json($0)) }
            })
    }

    static func reference(_ arguments: [String: Value]) throws -> VendorClient.LeaseReference {
        let lease = arguments["leaseId"]?.stringValue
        let session = arguments["sessionId"]?.stringValue
        switch (lease, session) {
        case (let id?, nil):
            guard arguments["subscriptionId"] == nil, arguments["accountId"] == nil, arguments["region"] == nil else {
                throw InvalidArguments(
                    message: "subscriptionId, accountId and region go with sessionId, not leaseId", field: "leaseId")
            }
            return .id(id)
        case (nil, let session?):
            return .session(
                session, subscriptionId: arguments["subscriptionId"]?.stringValue,
                accountId: arguments["accountId"]?.stringValue, region: arguments["region"]?.stringValue)
        default:
            throw InvalidArguments(message: "name the lease by leaseId or by sessionId (one of them)", field: "leaseId")
        }
    }

    /// The arguments' names, required members and types against the tool's input schema (the Vendor
    /// checks the values themselves).
    static func check(_ arguments: [String: Value], against tool: Tool) throws {
        guard case .object(let schema) = tool.inputSchema, case .object(let properties)? = schema["properties"] else {
            return
        }
        for key in arguments.keys.sorted() where properties[key] == nil {
            throw InvalidArguments(
                message:
                    "unknown argument '\(key)'; \(tool.name) takes \(properties.keys.sorted().joined(separator: ", "))",
                field: key)
        }
        for case .string(let key) in schema["required"]?.arrayValue ?? [] where arguments[key] == nil {
            throw InvalidArguments(message: "'\(key)' is required", field: key)
        }
        for (key, value) in arguments {
            guard case .object(let property)? = properties[key], case .string(let type)? = property["type"] else {
                continue
            }
            let fits: Bool
            switch (type, value) {
            case ("string", .string), ("array", .array), ("object", .object), ("boolean", .bool): fits = true
            case ("integer", .int): fits = true
            case ("integer", .double(let number)): fits = number.rounded() == number
            default: fits = false
            }
            guard fits else {
                throw InvalidArguments(
                    message: "'\(key)' must be \(type == "integer" ? "an" : "a") \(type)", field: key)
            }
        }
    }

    static func success(_ json: JSONValue) -> CallTool.Result { result(json, isError: false) }

    static func refusal(_ json: JSONValue) -> CallTool.Result { result(json, isError: true) }

    /// The JSON as structured content, and the same as a text block for clients that ignore structured content.
    static func result(_ json: JSONValue, isError: Bool) -> CallTool.Result {
        let structured: Value? = JSONBridge.value(json)
        return CallTool.Result(
            content: [.text(text: json.serialized(), annotations: nil, _meta: nil)], structuredContent: structured,
            isError: isError)
    }

    // MARK: Resources

    package static let resources: [Resource] = [
        Resource(
            name: "pools", uri: "ipam://pools", title: "Address space by scope",
            description: "GET /api/pools: every scope's space by size and state.", mimeType: "application/json")
    ]

    package static let templates: [Resource.Template] = [
        Resource.Template(
            uriTemplate: "ipam://leases/{leaseId}", name: "lease", title: "A lease",
            description: "GET /api/leases/{leaseId}", mimeType: "application/json")
    ]

    /// The JSON text of a resource.
    package static func read(_ uri: String, client: VendorClient) async throws -> String {
        do {
            if uri == "ipam://pools" { return try await client.pools().json.serialized() }
            if uri.hasPrefix("ipam://leases/"), case let id = String(uri.dropFirst("ipam://leases/".count)),
                !id.isEmpty, !id.contains("/")
            {
                return try await client.lease(.id(id)).json.serialized()
            }
        } catch {
            throw MCPError.invalidParams("\(uri): \(error)")
        }
        throw MCPError.invalidParams("no resource \(uri)")
    }
}
