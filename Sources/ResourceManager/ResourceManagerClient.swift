package import AzureCore
import Foundation
import HTTPTransport
package import Logging
package import StrictJSON

/// A small Azure Resource Manager client: GET and PUT of virtual machines, network interfaces and public IP
/// addresses, with their api-versions, ETag `If-Match` on NIC updates and long-running operations followed to
/// their end (`Azure-AsyncOperation`, else `Location`). Throttling (429 with `Retry-After`) and transient
/// failures are retried by the pipeline.
package struct ResourceManagerClient: Sendable {
    package let endpoint: String
    let pipeline: AzurePipeline
    let logger: Logger
    /// How long to wait between polls of a long-running operation when it does not say (`Retry-After`).
    let pollInterval: Duration
    /// Polls before an operation is given up on.
    let maxPolls: Int

    package static let computeAPIVersion = "2024-07-01"
    package static let networkAPIVersion = "2024-05-01"

    /// - Parameters:
    ///   - endpoint: `https://management.azure.com`, or a local endpoint (`arm-emulator`).
    ///   - pipeline: authorizes with a bearer token for `https://management.azure.com/` and retries.
    package init(
        endpoint: String, pipeline: AzurePipeline,
        logger: Logger = Logger(label: "ipam.arm", factory: { _ in SwiftLogNoOpLogHandler() }),
        pollInterval: Duration = .seconds(2), maxPolls: Int = 60
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.pipeline = pipeline
        self.logger = logger
        self.pollInterval = pollInterval
        self.maxPolls = maxPolls
    }

    /// A resource's JSON and its ETag.
    package func get(_ id: String, apiVersion: String) async throws -> (json: JSONValue, etag: String?) {
        let response = try await pipeline.send(
            TransportRequest(method: "GET", url: url(id, apiVersion), headers: ["Accept": "application/json"]),
            idempotent: true)
        let json = try Self.parse(response.body)
        return (json, json["etag"]?.stringValue ?? response.headers["ETag"])
    }

    package func virtualMachine(_ id: String) async throws -> VirtualMachine {
        VirtualMachine(json: try await get(id, apiVersion: Self.computeAPIVersion).json)
    }

    package func networkInterface(_ id: String) async throws -> NetworkInterface {
        let (json, etag) = try await get(id, apiVersion: Self.networkAPIVersion)
        return NetworkInterface(json: json, etag: etag)
    }

    package func publicIPAddress(_ id: String) async throws -> PublicIPAddress {
        PublicIPAddress(json: try await get(id, apiVersion: Self.networkAPIVersion).json)
    }

    /// Writes `nic` (`If-Match` the ETag it was read with) and follows the operation to its end.
    /// - Throws: `AzureError` (412 when the NIC changed since it was read; the operation's error when it failed).
    package func update(_ nic: NetworkInterface) async throws -> NetworkInterface {
        try await put(nic.id, body: nic.json, apiVersion: Self.networkAPIVersion, ifMatch: nic.etag)
        return try await networkInterface(nic.id)
    }

    /// PUTs a resource's JSON (`If-Match` when given) and follows the long-running operation it starts to its end.
    package func put(_ id: String, body: JSONValue, apiVersion: String, ifMatch: String?) async throws {
        var headers: HTTPHeaderList = ["Accept": "application/json", "Content-Type": "application/json"]
        if let ifMatch { headers["If-Match"] = ifMatch }
        let response = try await pipeline.send(
            TransportRequest(method: "PUT", url: url(id, apiVersion), headers: headers, body: body.serializedBytes),
            idempotent: true)
        try await follow(response)
    }

    /// Waits for a long-running operation an answer started, polling `Azure-AsyncOperation` (its `status`)
    /// or else `Location` (until it answers other than 202).
    func follow(_ response: TransportResponse) async throws {
        if let operation = response.headers["Azure-AsyncOperation"] {
            for _ in 0..<maxPolls {
                let poll = try await pipeline.send(
                    TransportRequest(method: "GET", url: operation, headers: ["Accept": "application/json"]),
                    idempotent: true)
                let body = try Self.parse(poll.body)
                switch body["status"]?.stringValue?.lowercased() {
                case "succeeded": return
                case "failed", "canceled":
                    let error = body["error"]
                    throw AzureError(
                        status: 500, errorCode: error?["code"]?.stringValue ?? "OperationFailed",
                        message: error?["message"]?.stringValue
                            ?? "the operation \(body["status"]?.stringValue ?? "failed")")
                default:
                    try await pipeline.clock.sleep(RetryPolicy.retryAfter(from: poll.headers) ?? pollInterval)
                }
            }
            throw AzureError(
                status: 504, errorCode: "OperationTimedOut",
                message: "the operation did not finish after \(maxPolls) polls")
        }
        if response.status == 202, let location = response.headers["Location"] {
            for _ in 0..<maxPolls {
                let poll = try await pipeline.send(
                    TransportRequest(method: "GET", url: location, headers: ["Accept": "application/json"]),
                    idempotent: true)
                if poll.status != 202 { return }
                try await pipeline.clock.sleep(RetryPolicy.retryAfter(from: poll.headers) ?? pollInterval)
            }
            throw AzureError(
                status: 504, errorCode: "OperationTimedOut",
                message: "the operation did not finish after \(maxPolls) polls")
        }
    }

    func url(_ id: String, _ apiVersion: String) -> String {
        endpoint + (id.hasPrefix("/") ? "" : "/") + id + "?api-version=" + apiVersion
    }

    static func parse(_ body: [UInt8]) throws -> JSONValue {
        do { return try JSONValue.parse(body) } catch {
            throw AzureError.invalidResponse("Resource Manager answered JSON that does not parse: \(error)")
        }
    }
}

/// A virtual machine, as far as public IPs go: its network interfaces.
package struct VirtualMachine: Sendable {
    package let json: JSONValue
    package init(json: JSONValue) { self.json = json }

    /// The NIC marked `primary`, or the only one.
    package var primaryNetworkInterfaceId: String? {
        let nics = json["properties"]?["networkProfile"]?["networkInterfaces"]?.arrayValue ?? []
        let primary = nics.first { $0["properties"]?["primary"] == .bool(true) } ?? (nics.count == 1 ? nics.first : nil)
        return primary?["id"]?.stringValue
    }
}

/// A public IP address, as far as its association goes.
package struct PublicIPAddress: Sendable {
    package let json: JSONValue
    package init(json: JSONValue) { self.json = json }

    package var id: String { json["id"]?.stringValue ?? "" }
    /// The address itself, once allocated.
    package var ipAddress: String? { json["properties"]?["ipAddress"]?.stringValue }
    /// The IP configuration holding it (`…/networkInterfaces/{nic}/ipConfigurations/{name}`), nil when free.
    package var ipConfigurationId: String? { json["properties"]?["ipConfiguration"]?["id"]?.stringValue }
    /// The NIC holding it, nil when free (or held by something else than a NIC).
    package var networkInterfaceId: String? {
        guard let holder = ipConfigurationId,
            let range = holder.range(of: "/ipConfigurations/", options: .caseInsensitive)
        else { return nil }
        return String(holder[..<range.lowerBound])
    }
}

/// A network interface: its IP configurations, editable, and written back whole.
package struct NetworkInterface: Sendable {
    package private(set) var json: JSONValue
    package let etag: String?

    package init(json: JSONValue, etag: String?) {
        self.json = json
        self.etag = etag
    }

    package var id: String { json["id"]?.stringValue ?? "" }

    package struct IPConfiguration: Sendable, Equatable {
        package let name: String
        package let primary: Bool
        package let publicIPAddressId: String?
    }

    package var ipConfigurations: [IPConfiguration] {
        let configurations = json["properties"]?["ipConfigurations"]?.arrayValue ?? []
        return configurations.enumerated().map { index, item in
            let primary = item["properties"]?["primary"] == .bool(true) || (configurations.count == 1 && index == 0)
            return IPConfiguration(
                name: item["name"]?.stringValue ?? "", primary: primary,
                publicIPAddressId: item["properties"]?["publicIPAddress"]?["id"]?.stringValue)
        }
    }

    package var primaryConfiguration: IPConfiguration? { ipConfigurations.first(where: \.primary) }

    /// Puts `publicIPAddressId` on the configuration `name` (nil takes it off).
    package mutating func setPublicIP(_ publicIPAddressId: String?, on name: String) {
        editConfigurations { items in
            items.map { item in
                guard item["name"]?.stringValue == name else { return item }
                return item.updating("properties") { properties in
                    (properties ?? .object([])).updating("publicIPAddress") { _ in
                        publicIPAddressId.map { .object([("id", .string($0))]) }
                    }
                }
            }
        }
    }

    /// Removes the configurations `remove` picks.
    package mutating func removeConfigurations(where remove: (IPConfiguration) -> Bool) {
        let keep = ipConfigurations.map { !remove($0) }
        editConfigurations { items in zip(items, keep).filter(\.1).map(\.0) }
    }

    private mutating func editConfigurations(_ edit: ([JSONValue]) -> [JSONValue]) {
        json = json.updating("properties") { properties in
            (properties ?? .object([])).updating("ipConfigurations") { list in .array(edit(list?.arrayValue ?? [])) }
        }
    }
}

/// Resource ids compare case-insensitively in Azure.
package func sameResource(_ a: String?, _ b: String?) -> Bool {
    guard let a, let b else { return false }
    return a.caseInsensitiveCompare(b) == .orderedSame
}
