import Foundation
import HTTPTransport
import Hummingbird
package import Logging
package import ServerLimits
package import StrictJSON
package import TableEmulator

/// The resources of a local Azure Resource Manager: virtual machines, network interfaces and public IP
/// addresses in their documented JSON shapes, with the rules a public IP's association follows in Azure.
package actor ResourceManagerState {
    package enum FaultMode: String, Sendable, CaseIterable {
        /// 429 with `Retry-After` (nothing applied).
        case throttle
        /// 500 before anything is applied.
        case error
        /// A PUT is accepted (200 and an operation to poll), then the operation fails and nothing changes.
        case failAfterAccept
    }

    private var resources: [String: JSONValue] = [:]
    private var operations: [String: (pollsLeft: Int, failed: Bool)] = [:]
    private var faults: [(FaultMode, Int)] = []
    /// PUT requests received (each an attempt to write).
    package private(set) var puts = 0
    /// Where the state is kept between runs (`--state FILE`), nil for memory only.
    let file: String?

    package init(resources: [JSONValue] = [], file: String? = nil) {
        self.file = file
        var byId: [String: JSONValue] = [:]
        for resource in resources { if let id = resource["id"]?.stringValue { byId[id.lowercased()] = resource } }
        self.resources = Self.relinked(byId)
    }

    /// The state in `file` (`{"resources": [...]}`), or an empty state that will be written there.
    package static func load(file: String) throws -> ResourceManagerState {
        guard FileManager.default.fileExists(atPath: file) else { return ResourceManagerState(file: file) }
        let json = try JSONValue.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        return ResourceManagerState(resources: json["resources"]?.arrayValue ?? [], file: file)
    }

    package func resource(_ id: String) -> JSONValue? { resources[id.lowercased()] }
    package func all() -> [JSONValue] { resources.keys.sorted().map { resources[$0]! } }

    /// Adds or replaces a resource as it is (an operator's hand-made change), then recomputes which IP
    /// configuration holds each public IP from the NICs.
    package func upsert(_ resource: JSONValue) {
        guard let id = resource["id"]?.stringValue else { return }
        resources[id.lowercased()] = resource
        relinkPublicIPs()
        save()
    }

    package func inject(_ mode: FaultMode, count: Int) { faults.append((mode, max(1, count))) }
    package func clearFaults() { faults.removeAll() }

    func takeFault(_ allowed: Set<FaultMode>) -> FaultMode? {
        guard let index = faults.firstIndex(where: { allowed.contains($0.0) }) else { return nil }
        let mode = faults[index].0
        if faults[index].1 <= 1 { faults.remove(at: index) } else { faults[index].1 -= 1 }
        return mode
    }

    /// Public IP id → the IP configurations (of any NIC) that reference it. In a consistent state each has
    /// at most one.
    package func holders() -> [String: [String]] { Self.holders(resources) }

    static func holders(_ resources: [String: JSONValue]) -> [String: [String]] {
        var found: [String: [String]] = [:]
        for (_, nic) in resources where Self.isNIC(nic) {
            for configuration in nic["properties"]?["ipConfigurations"]?.arrayValue ?? [] {
                if let pip = configuration["properties"]?["publicIPAddress"]?["id"]?.stringValue {
                    found[pip.lowercased(), default: []].append(configuration["id"]?.stringValue ?? "")
                }
            }
        }
        return found
    }

    /// Applies a NIC PUT: `If-Match`, then the association rules; answers the status and body.
    func put(id: String, body: JSONValue, ifMatch: String?) -> (Int, JSONValue, operation: String?) {
        puts += 1
        guard let current = resources[id.lowercased()], Self.isNIC(current) else {
            return (404, EmulatorResponse.azureError("ResourceNotFound", "The Resource '\(id)' was not found."), nil)
        }
        if let ifMatch, ifMatch != "*", ifMatch != current["etag"]?.stringValue {
            return (
                412,
                EmulatorResponse.azureError(
                    "PreconditionFailed",
                    "The specified ETag \(ifMatch) does not match the resource's (\(current["etag"]?.stringValue ?? ""))."
                ), nil
            )
        }
        let configurations = body["properties"]?["ipConfigurations"]?.arrayValue ?? []
        guard !configurations.isEmpty else {
            return (
                400,
                EmulatorResponse.azureError(
                    "InvalidRequestFormat", "A network interface needs at least one IP configuration."), nil
            )
        }
        var seen: Set<String> = []
        for configuration in configurations {
            guard let pip = configuration["properties"]?["publicIPAddress"]?["id"]?.stringValue else { continue }
            guard let address = resources[pip.lowercased()], Self.isPublicIP(address) else {
                return (
                    400,
                    EmulatorResponse.azureError(
                        "InvalidResourceReference", "Resource \(pip) referenced by resource \(id) was not found."), nil
                )
            }
            guard seen.insert(pip.lowercased()).inserted else {
                return (
                    400,
                    EmulatorResponse.azureError(
                        "PublicIPAddressInUse", "Public IP address \(pip) is referenced twice by \(id)."),
                    nil
                )
            }
            if let holder = address["properties"]?["ipConfiguration"]?["id"]?.stringValue,
                !holder.lowercased().hasPrefix(id.lowercased() + "/")
            {
                return (
                    400,
                    EmulatorResponse.azureError(
                        "PublicIPAddressInUse",
                        "Resource \(pip) is already in use by \(holder); it cannot be referenced by \(id)."), nil
                )
            }
        }
        let operation = UUID().uuidString.lowercased()
        if takeFault([.failAfterAccept]) != nil {
            operations[operation] = (1, true)
            return (200, current, operation)
        }
        var updated = body.updating("etag") { _ in .string("W/\"\(UUID().uuidString.lowercased())\"") }
        updated = updated.updating("id") { _ in current["id"] }.updating("name") { _ in current["name"] }.updating(
            "type"
        ) { _ in current["type"] }
        updated = updated.updating("properties") { properties in
            (properties ?? .object([])).updating("provisioningState") { _ in .string("Succeeded") }.updating(
                "ipConfigurations"
            ) { _ in
                .array(
                    configurations.map { configuration in
                        let name = configuration["name"]?.stringValue ?? "ipconfig"
                        return configuration.updating("id") { _ in .string(id + "/ipConfigurations/" + name) }
                    })
            }
        }
        resources[id.lowercased()] = updated
        relinkPublicIPs()
        save()
        operations[operation] = (1, false)
        return (200, updated, operation)
    }

    /// An operation's status: `InProgress` for its first poll, then how it ended.
    func poll(_ operation: String) -> JSONValue? {
        guard let state = operations[operation] else { return nil }
        if state.pollsLeft > 0 {
            operations[operation] = (state.pollsLeft - 1, state.failed)
            return .object([("status", .string("InProgress"))])
        }
        operations[operation] = nil
        if state.failed {
            return .object([
                ("status", .string("Failed")),
                (
                    "error",
                    .object([
                        ("code", .string("InternalServerError")),
                        ("message", .string("The operation failed after it was accepted (injected).")),
                    ])
                ),
            ])
        }
        return .object([("status", .string("Succeeded"))])
    }

    /// Sets every public IP's `ipConfiguration` from the NICs that reference it (Azure keeps the two in step).
    private func relinkPublicIPs() { resources = Self.relinked(resources) }

    static func relinked(_ resources: [String: JSONValue]) -> [String: JSONValue] {
        let holders = Self.holders(resources)
        var result = resources
        for (key, resource) in resources where isPublicIP(resource) {
            let holder = holders[key]?.first
            result[key] = resource.updating("properties") { properties in
                (properties ?? .object([])).updating("ipConfiguration") { _ in
                    holder.map { .object([("id", .string($0))]) }
                }
            }
        }
        return result
    }

    private func save() {
        guard let file else { return }
        try? Data(JSONValue.object([("resources", .array(all()))]).serializedBytes).write(
            to: URL(fileURLWithPath: file))
    }

    static func isNIC(_ resource: JSONValue) -> Bool {
        resource["type"]?.stringValue?.lowercased() == "microsoft.network/networkinterfaces"
    }
    static func isPublicIP(_ resource: JSONValue) -> Bool {
        resource["type"]?.stringValue?.lowercased() == "microsoft.network/publicipaddresses"
    }

    // MARK: Building a sample world

    /// A VM with one NIC (primary configuration `ipconfig1` in `subnet`), as Azure describes them.
    package static func virtualMachine(
        subscription: String, resourceGroup: String, name: String, location: String = "uksouth", privateIP: String
    ) -> [JSONValue] {
        let base = "/subscriptions/\(subscription)/resourceGroups/\(resourceGroup)/providers"
        let vmId = "\(base)/Microsoft.Compute/virtualMachines/\(name)"
        let nicId = "\(base)/Microsoft.Network/networkInterfaces/\(name)-nic"
        let vm: JSONValue = .object([
            ("id", .string(vmId)), ("name", .string(name)), ("type", .string("Microsoft.Compute/virtualMachines")),
            ("location", .string(location)),
            (
                "properties",
                .object([
                    ("vmId", .string(UUID().uuidString.lowercased())), ("provisioningState", .string("Succeeded")),
                    (
                        "networkProfile",
                        .object([
                            (
                                "networkInterfaces",
                                .array([
                                    .object([
                                        ("id", .string(nicId)), ("properties", .object([("primary", .bool(true))])),
                                    ])
                                ])
                            )
                        ])
                    ),
                ])
            ),
        ])
        let nic: JSONValue = .object([
            ("id", .string(nicId)), ("name", .string("\(name)-nic")),
            ("type", .string("Microsoft.Network/networkInterfaces")), ("location", .string(location)),
            ("etag", .string("W/\"\(UUID().uuidString.lowercased())\"")),
            (
                "properties",
                .object([
                    ("provisioningState", .string("Succeeded")),
                    (
                        "ipConfigurations",
                        .array([
                            .object([
                                ("id", .string(nicId + "/ipConfigurations/ipconfig1")), ("name", .string("ipconfig1")),
                                ("type", .string("Microsoft.Network/networkInterfaces/ipConfigurations")),
                                (
                                    "properties",
                                    .object([
                                        ("primary", .bool(true)), ("privateIPAddress", .string(privateIP)),
                                        ("privateIPAllocationMethod", .string("Dynamic")),
                                        (
                                            "subnet",
                                            .object([
                                                (
                                                    "id",
                                                    .string(
                                                        "\(base)/Microsoft.Network/virtualNetworks/vnet/subnets/default"
                                                    )
                                                )
                                            ])
                                        ),
                                    ])
                                ),
                            ])
                        ])
                    ),
                    ("virtualMachine", .object([("id", .string(vmId))])),
                ])
            ),
        ])
        return [vm, nic]
    }

    /// A static public IP address.
    package static func publicIP(
        subscription: String, resourceGroup: String, name: String, location: String = "uksouth", address: String
    ) -> JSONValue {
        .object([
            (
                "id",
                .string(
                    "/subscriptions/\(subscription)/resourceGroups/\(resourceGroup)/providers/Microsoft.Network/publicIPAddresses/\(name)"
                )
            ),
            ("name", .string(name)), ("type", .string("Microsoft.Network/publicIPAddresses")),
            ("location", .string(location)),
            ("sku", .object([("name", .string("Standard"))])),
            (
                "properties",
                .object([
                    ("provisioningState", .string("Succeeded")), ("publicIPAllocationMethod", .string("Static")),
                    ("ipAddress", .string(address)),
                ])
            ),
        ])
    }
}

/// A local Azure Resource Manager endpoint (`arm-emulator`): GET of VMs, NICs and public IPs, PUT of NICs
/// answered asynchronously (`Azure-AsyncOperation`), and an admin API (`/admin/state`, `/admin/resources`,
/// `/admin/faults`) for tests and the local stack.
package struct ResourceManagerEmulator: Sendable {
    package let state: ResourceManagerState
    package init(state: ResourceManagerState) { self.state = state }

    package func handle(_ request: EmulatorRequest) async -> EmulatorResponse {
        let path = request.rawPath.removingPercentEncoding ?? request.rawPath
        switch (request.method, path) {
        case ("GET", "/admin/state"):
            return EmulatorResponse.json(200, .object([("resources", .array(await state.all()))]))
        case ("GET", "/admin/writes"):
            return EmulatorResponse.json(200, .object([("puts", .number(String(await state.puts)))]))
        case ("POST", "/admin/resources"):
            guard let json = try? JSONValue.parse(request.body), json["id"]?.stringValue != nil else {
                return EmulatorResponse.json(
                    400, EmulatorResponse.azureError("InvalidRequest", "send one resource with an id"))
            }
            await state.upsert(json)
            return EmulatorResponse.json(201, json)
        case ("POST", "/admin/faults"):
            guard let json = try? JSONValue.parse(request.body),
                let mode = json["mode"]?.stringValue.flatMap(ResourceManagerState.FaultMode.init(rawValue:))
            else {
                return EmulatorResponse.json(
                    400,
                    EmulatorResponse.azureError(
                        "InvalidRequest",
                        "mode must be one of \(ResourceManagerState.FaultMode.allCases.map(\.rawValue).joined(separator: ", "))"
                    ))
            }
            let count = json["count"].flatMap { if case .number(let n) = $0 { return Int(n) } else { return nil } } ?? 1
            await state.inject(mode, count: count)
            return EmulatorResponse(status: 204, headers: [:], body: [])
        default:
            break
        }
        guard request.headers["Authorization"]?.lowercased().hasPrefix("bearer ") == true else {
            return EmulatorResponse.json(
                401,
                EmulatorResponse.azureError(
                    "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."))
        }
        guard TableServiceHandler.queryParameters(request.query)["api-version"] != nil else {
            return EmulatorResponse.json(
                400,
                EmulatorResponse.azureError(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests."))
        }
        if request.method == "GET", path.hasPrefix("/operations/") {
            guard let status = await state.poll(String(path.dropFirst("/operations/".count))) else {
                return EmulatorResponse.json(404, EmulatorResponse.azureError("NotFound", "no operation \(path)"))
            }
            return EmulatorResponse.json(200, status)
        }
        switch await state.takeFault([.throttle, .error]) {
        case .throttle?:
            return EmulatorResponse.json(
                429, EmulatorResponse.azureError("TooManyRequests", "The request is being throttled."),
                headers: ["Retry-After": "1"])
        case .error?:
            return EmulatorResponse.json(
                500, EmulatorResponse.azureError("InternalServerError", "Encountered internal server error (injected).")
            )
        default:
            break
        }
        switch request.method {
        case "GET":
            guard let resource = await state.resource(path) else {
                return EmulatorResponse.json(
                    404, EmulatorResponse.azureError("ResourceNotFound", "The Resource '\(path)' was not found."))
            }
            return EmulatorResponse.json(
                200, resource, headers: resource["etag"]?.stringValue.map { ["ETag": $0] } ?? [:])
        case "PUT":
            guard let body = try? JSONValue.parse(request.body) else {
                return EmulatorResponse.json(
                    400,
                    EmulatorResponse.azureError(
                        "InvalidRequestContent", "The request content was invalid and could not be deserialized."))
            }
            let (status, answer, operation) = await state.put(
                id: path, body: body, ifMatch: request.headers["If-Match"])
            var headers: HTTPHeaderList = [:]
            if let operation, let host = request.headers["Host"] {
                headers["Azure-AsyncOperation"] = "http://\(host)/operations/\(operation)?api-version=2024-05-01"
            }
            return EmulatorResponse.json(status, answer, headers: headers)
        default:
            return EmulatorResponse.json(
                405, EmulatorResponse.azureError("MethodNotAllowed", "\(request.method) is not supported here"))
        }
    }

    /// Serves until cancelled (or SIGTERM/SIGINT with `gracefulShutdown`).
    package func run(
        host: String, port: Int, logger: Logger, gracefulShutdown: Bool = false, limits: HTTPServerLimits = .defaults,
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws {
        try await TableEmulatorServer.serve(
            host: host, port: port, logger: logger, gracefulShutdown: gracefulShutdown, limits: limits,
            handle: { await handle($0) }, onReady: onReady)
    }
}
