import AzureCore
import Foundation
import HTTPTransport
import Hummingbird
package import Logging
package import ResourceGraph
package import ServerLimits
package import TableEmulator

/// A local Resource Graph endpoint for tests and the local stack: serves the documented response shape
/// from a set of VNets, pages with `$skipToken`, and injects faults. Its admin API is how tests and
/// `scripts/run` play Terraform.
package actor ResourceGraphState {
    package enum FaultMode: String, Sendable { case throttle, error, truncate, failPage }

    private var vnets: [String: VirtualNetwork] = [:]
    /// `vnets` in id order, rebuilt only after a change (pages are served from it).
    private var sorted: [VirtualNetwork]? = nil
    private var faults: [(FaultMode, Int)] = []
    package private(set) var queries = 0
    /// Subscriptions the caller may not read (its identity lacks Reader there): as Resource Graph does,
    /// their resources are left out of answers without an error.
    package private(set) var denied: Set<String> = []

    package func deny(_ subscriptions: Set<String>) { denied = Set(subscriptions.map { $0.lowercased() }) }

    /// Queries parked by a `hold` fault, until `release` (or a minute passes).
    private var held: [CheckedContinuation<Void, Never>] = []
    private var holding = false

    /// The next query waits until `release()`: lets a test keep one Manager's run open for as long as it needs.
    package func hold() { holding = true }

    package func release() {
        holding = false
        for waiter in held { waiter.resume() }
        held.removeAll()
    }

    /// Parks the caller when a hold is set (taking it: one query is held).
    func waitIfHeld() async {
        guard holding else { return }
        holding = false
        await withCheckedContinuation { held.append($0) }
    }

    package init(vnets: [VirtualNetwork] = []) {
        for vnet in vnets { self.vnets[vnet.id.lowercased()] = vnet }
    }

    package func upsert(_ vnet: VirtualNetwork) {
        vnets[vnet.id.lowercased()] = vnet
        sorted = nil
    }

    @discardableResult package func remove(id: String) -> Bool {
        sorted = nil
        return vnets.removeValue(forKey: id.lowercased()) != nil
    }

    package func all() -> [VirtualNetwork] {
        if let sorted { return sorted }
        let fresh = vnets.sorted { $0.key < $1.key }.map(\.value)
        sorted = fresh
        return fresh
    }
    package func inject(_ mode: FaultMode, count: Int) { faults.append((mode, count)) }
    package func clearFaults() { faults.removeAll() }

    /// Takes the next fault that applies to this page (failPage applies to pages after the first).
    func takeFault(firstPage: Bool) -> FaultMode? {
        guard let index = faults.firstIndex(where: { $0.0 != .failPage || !firstPage }) else { return nil }
        let (mode, count) = faults[index]
        if count <= 1 { faults.remove(at: index) } else { faults[index].1 = count - 1 }
        return mode
    }

    func countQuery() { queries += 1 }

    /// Queries served so far (each is one page).
    package func pageCount() -> Int { queries }
}

package struct ResourceGraphEmulator: Sendable {
    package let state: ResourceGraphState
    package let pageSize: Int

    package init(state: ResourceGraphState, pageSize: Int = 1000) {
        self.state = state
        self.pageSize = max(1, pageSize)
    }

    /// Loads VNets from a JSON file: an array of rows as Resource Graph returns them, or `{"data": [...]}`.
    package static func loadVNets(path: String) throws -> [VirtualNetwork] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TestableError("cannot read \(path)") }
        let json = try JSONValue.parse(Array(data))
        return (json.arrayValue ?? json["data"]?.arrayValue ?? []).compactMap(VirtualNetwork.init(json:))
    }

    package func handle(_ request: EmulatorRequest) async -> EmulatorResponse {
        switch (request.method, request.rawPath) {
        case ("POST", "/providers/Microsoft.ResourceGraph/resources"): return await query(request)
        case ("GET", "/admin/vnets"):
            return EmulatorResponse.json(200, .object([("data", .array(await state.all().map(\.json)))]))
        case ("POST", "/admin/vnets"):
            guard let json = try? JSONValue.parse(request.body), let vnet = VirtualNetwork(json: json) else {
                return EmulatorResponse.json(
                    400, EmulatorResponse.azureError("InvalidRequest", "send one VNet row with at least an id"))
            }
            await state.upsert(vnet)
            return EmulatorResponse.json(201, vnet.json)
        case ("DELETE", "/admin/vnets"):
            let id = TableServiceHandler.queryParameters(request.query)["id"] ?? ""
            return await state.remove(id: id)
                ? EmulatorResponse(status: 204, headers: [:], body: [])
                : EmulatorResponse.json(404, EmulatorResponse.azureError("NotFound", "no VNet \(id)"))
        case ("POST", "/admin/access"):
            guard let json = try? JSONValue.parse(request.body), let list = json["deny"]?.arrayValue else {
                return EmulatorResponse.json(
                    400, EmulatorResponse.azureError("InvalidRequest", "send {\"deny\": [subscription ids]}"))
            }
            await state.deny(Set(list.compactMap(\.stringValue)))
            return EmulatorResponse(status: 204, headers: [:], body: [])
        case ("POST", "/admin/hold"):
            await state.hold()
            return EmulatorResponse(status: 204, headers: [:], body: [])
        case ("POST", "/admin/release"):
            await state.release()
            return EmulatorResponse(status: 204, headers: [:], body: [])
        case ("POST", "/admin/faults"):
            guard let json = try? JSONValue.parse(request.body),
                let mode = json["mode"]?.stringValue.flatMap(ResourceGraphState.FaultMode.init(rawValue:))
            else {
                return EmulatorResponse.json(
                    400,
                    EmulatorResponse.azureError("InvalidRequest", "mode must be throttle, error, truncate or failPage"))
            }
            let count = json["count"].flatMap { if case .number(let n) = $0 { return Int(n) } else { return nil } } ?? 1
            await state.inject(mode, count: max(1, count))
            return EmulatorResponse(status: 204, headers: [:], body: [])
        default:
            return EmulatorResponse.json(
                404, EmulatorResponse.azureError("NotFound", "\(request.method) \(request.rawPath) is not served here"))
        }
    }

    private func query(_ request: EmulatorRequest) async -> EmulatorResponse {
        guard request.headers["Authorization"]?.lowercased().hasPrefix("bearer ") == true else {
            return EmulatorResponse.json(
                401, EmulatorResponse.azureError("AuthenticationFailed", "a bearer token is required"))
        }
        guard let body = try? JSONValue.parse(request.body), let text = body["query"]?.stringValue, !text.isEmpty else {
            return EmulatorResponse.json(400, EmulatorResponse.azureError("BadRequest", "the body needs a query"))
        }
        await state.waitIfHeld()
        await state.countQuery()
        let requested = Set((body["subscriptions"]?.arrayValue ?? []).compactMap { $0.stringValue?.lowercased() })
        let denied = await state.denied
        if text.lowercased().contains("resourcecontainers") {
            // The subscriptions themselves: those of the request the caller may read.
            let rows: [JSONValue] = requested.subtracting(denied).sorted().map {
                .object([("subscriptionId", .string($0))])
            }
            return EmulatorResponse.json(
                200,
                .object([
                    ("totalRecords", .number(String(rows.count))), ("count", .number(String(rows.count))),
                    ("data", .array(rows)),
                    ("facets", .array([])), ("resultTruncated", .string("false")),
                ]))
        }
        let subscriptions = requested.subtracting(denied)
        let options = body["options"]
        let top =
            options?["$top"].flatMap { if case .number(let n) = $0 { return Int(n) } else { return nil } } ?? pageSize
        let skipToken = options?["$skipToken"]?.stringValue
        let offset =
            skipToken.flatMap { Data(base64Encoded: $0) }.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        let quota: HTTPHeaderList = ["x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"]
        switch await state.takeFault(firstPage: skipToken == nil) {
        case .throttle?:
            var headers: HTTPHeaderList = [
                "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:01", "Retry-After": "1",
            ]
            headers["Content-Type"] = "application/json"
            return EmulatorResponse(
                status: 429, headers: headers,
                body: EmulatorResponse.azureError(
                    "RateLimiting", "Please provide below info when asking for support: throttled"
                )
                .serializedBytes)
        case .error?, .failPage?:
            return EmulatorResponse.json(500, EmulatorResponse.azureError("InternalServerError", "injected failure"))
        case .truncate?:
            let rows = await matching(subscriptions)
            return EmulatorResponse.json(
                200, Self.page(Array(rows.prefix(min(top, pageSize))), total: rows.count, truncated: true, next: nil),
                headers: quota)
        case nil:
            break
        }
        let rows = await matching(subscriptions)
        let size = min(top, pageSize)
        let slice = Array(rows.dropFirst(offset).prefix(size))
        let next = offset + size < rows.count ? Data(String(offset + size).utf8).base64EncodedString() : nil
        return EmulatorResponse.json(
            200, Self.page(slice, total: rows.count, truncated: false, next: next), headers: quota)
    }

    private func matching(_ subscriptions: Set<String>) async -> [VirtualNetwork] {
        let denied = await state.denied
        return await state.all().filter {
            (subscriptions.isEmpty || subscriptions.contains($0.subscriptionId.lowercased()))
                && !denied.contains($0.subscriptionId.lowercased())
        }
    }

    static func page(_ rows: [VirtualNetwork], total: Int, truncated: Bool, next: String?) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("totalRecords", .number(String(total))), ("count", .number(String(rows.count))),
            ("resultTruncated", .string(truncated ? "true" : "false")), ("facets", .array([])),
        ]
        if let next { members.append(("$skipToken", .string(next))) }
        members.append(("data", .array(rows.map(\.json))))
        return .object(members)
    }

    /// Serves until cancelled (or SIGTERM/SIGINT with `gracefulShutdownSignals`).
    package func run(
        host: String, port: Int, logger: Logger, gracefulShutdown: Bool = false, limits: HTTPServerLimits = .defaults,
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws {
        try await TableEmulatorServer.serve(
            host: host, port: port, logger: logger, gracefulShutdown: gracefulShutdown, limits: limits,
            handle: { await handle($0) }, onReady: onReady)
    }
}

struct TestableError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
