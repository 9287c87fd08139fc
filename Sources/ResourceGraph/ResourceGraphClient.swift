package import AzureCore
import Foundation
import HTTPTransport
package import Logging

/// A virtual network as Resource Graph reports it.
package struct VirtualNetwork: Sendable, Equatable {
    package var id: String
    package var name: String
    package var subscriptionId: String
    package var resourceGroup: String
    package var location: String
    package var tags: [String: String]
    package var addressPrefixes: [String]

    package init(
        id: String, name: String, subscriptionId: String, resourceGroup: String, location: String,
        tags: [String: String] = [:], addressPrefixes: [String]
    ) {
        self.id = id
        self.name = name
        self.subscriptionId = subscriptionId
        self.resourceGroup = resourceGroup
        self.location = location
        self.tags = tags
        self.addressPrefixes = addressPrefixes
    }

    /// The row as the query projects it (`id, name, subscriptionId, resourceGroup, location, tags, addressPrefixes`).
    package var json: JSONValue {
        .object([
            ("id", .string(id)), ("name", .string(name)), ("subscriptionId", .string(subscriptionId)),
            ("resourceGroup", .string(resourceGroup)), ("location", .string(location)),
            ("tags", .object(tags.keys.sorted().map { ($0, .string(tags[$0]!)) })),
            ("addressPrefixes", .array(addressPrefixes.map(JSONValue.string))),
        ])
    }

    package init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, !id.isEmpty else { return nil }
        self.id = id
        name = json["name"]?.stringValue ?? ""
        subscriptionId = json["subscriptionId"]?.stringValue ?? ""
        resourceGroup = json["resourceGroup"]?.stringValue ?? ""
        location = (json["location"]?.stringValue ?? "").lowercased()
        var tags: [String: String] = [:]
        for (key, value) in json["tags"]?.objectValue ?? [] { if let text = value.stringValue { tags[key] = text } }
        self.tags = tags
        addressPrefixes = (json["addressPrefixes"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
}

/// What one listing of VNets produced. Only a complete listing may be used to conclude that a VNet is gone.
package struct VirtualNetworkListing: Sendable {
    package var networks: [VirtualNetwork]
    /// Every page of every subscription batch arrived, and none was truncated.
    package var isComplete: Bool
    /// Why the listing is incomplete (empty when complete).
    package var problems: [String]
    /// Pages fetched (each costs one unit of Resource Graph quota).
    package var pages: Int

    package init(networks: [VirtualNetwork], isComplete: Bool, problems: [String], pages: Int) {
        self.networks = networks
        self.isComplete = isComplete
        self.problems = problems
        self.pages = pages
    }
}

/// Resource Graph client for virtual networks: KQL query, `$skipToken` paging, subscription batching,
/// quota headers and 429 back-off. Failures never throw: they make the listing incomplete.
package struct ResourceGraphClient: Sendable {
    package static let apiVersion = "2022-10-01"
    /// One row per VNet, stable order (the `id` column keeps paging stable).
    package static let query = """
        resources
        | where type =~ 'microsoft.network/virtualnetworks'
        | project id, name, subscriptionId, resourceGroup, location, tags, addressPrefixes = properties.addressSpace.addressPrefixes
        | order by id asc
        """

    /// The subscriptions the caller may read, of those asked for. Resource Graph leaves out, without an
    /// error, the resources of subscriptions the identity cannot read; without this check a missing Reader
    /// role would look like VNets that were deleted.
    package static let subscriptionsQuery = """
        resourcecontainers
        | where type =~ 'microsoft.resources/subscriptions'
        | project subscriptionId
        """

    package let endpoint: String
    package let pipeline: AzurePipeline
    package let subscriptionBatchSize: Int
    package let pageSize: Int
    package let logger: Logger

    /// - Parameter endpoint: `RESOURCE_GRAPH_ENDPOINT`, default `https://management.azure.com`.
    package init(
        endpoint: String = "https://management.azure.com", pipeline: AzurePipeline, subscriptionBatchSize: Int = 100,
        pageSize: Int = 1000,
        logger: Logger = Logger(label: "ipam.resourcegraph", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.pipeline = pipeline
        self.subscriptionBatchSize = max(1, min(subscriptionBatchSize, 299))
        self.pageSize = max(1, min(pageSize, 1000))
        self.logger = logger
    }

    /// All VNets of `subscriptions`.
    package func virtualNetworks(subscriptions: [String]) async -> VirtualNetworkListing {
        var listing = VirtualNetworkListing(networks: [], isComplete: true, problems: [], pages: 0)
        let unique = Array(Set(subscriptions.map { $0.lowercased() })).sorted()
        for start in stride(from: 0, to: unique.count, by: subscriptionBatchSize) {
            let batch = Array(unique[start..<min(start + subscriptionBatchSize, unique.count)])
            guard let visible = await visibleSubscriptions(batch, &listing) else { return listing }
            for subscription in batch where !visible.contains(subscription) {
                listing.isComplete = false
                listing.problems.append(
                    "subscription \(subscription) is not visible to this identity (is Reader assigned on it?): its VNets cannot be listed"
                )
            }
            var skipToken: String? = nil
            repeat {
                var options: [(String, JSONValue)] = [
                    ("$top", .number(String(pageSize))), ("resultFormat", .string("objectArray")),
                ]
                if let skipToken { options.append(("$skipToken", .string(skipToken))) }
                let body = JSONValue.object([
                    ("subscriptions", .array(batch.map(JSONValue.string))), ("query", .string(Self.query)),
                    ("options", .object(options)),
                ])
                let request = TransportRequest(
                    method: "POST",
                    url: "\(endpoint)/providers/Microsoft.ResourceGraph/resources?api-version=\(Self.apiVersion)",
                    headers: ["Content-Type": "application/json"], body: body.serializedBytes)
                let response: TransportResponse
                do {
                    response = try await pipeline.send(request, idempotent: true)
                } catch {
                    listing.isComplete = false
                    listing.problems.append("page \(listing.pages + 1): \(error)")
                    return listing
                }
                listing.pages += 1
                guard let json = try? JSONValue.parse(response.body), let rows = json["data"]?.arrayValue else {
                    listing.isComplete = false
                    listing.problems.append("page \(listing.pages): the answer has no data array")
                    return listing
                }
                if json["resultTruncated"]?.stringValue?.lowercased() == "true"
                    || json["resultTruncated"] == .bool(true)
                {
                    listing.isComplete = false
                    listing.problems.append("page \(listing.pages): resultTruncated")
                }
                for row in rows {
                    if let network = VirtualNetwork(json: row) { listing.networks.append(network) }
                }
                skipToken = json["$skipToken"]?.stringValue
                await respectQuota(response.headers)
            } while skipToken != nil
        }
        return listing
    }

    /// Which of `batch` the identity can read (one page of `subscriptionsQuery`); nil, with the listing
    /// marked incomplete, when Resource Graph did not answer.
    func visibleSubscriptions(_ batch: [String], _ listing: inout VirtualNetworkListing) async -> Set<String>? {
        let body = JSONValue.object([
            ("subscriptions", .array(batch.map(JSONValue.string))), ("query", .string(Self.subscriptionsQuery)),
            ("options", .object([("$top", .number("1000")), ("resultFormat", .string("objectArray"))])),
        ])
        let request = TransportRequest(
            method: "POST",
            url: "\(endpoint)/providers/Microsoft.ResourceGraph/resources?api-version=\(Self.apiVersion)",
            headers: ["Content-Type": "application/json"], body: body.serializedBytes)
        do {
            let response = try await pipeline.send(request, idempotent: true)
            listing.pages += 1
            guard let rows = (try? JSONValue.parse(response.body))?["data"]?.arrayValue else {
                listing.isComplete = false
                listing.problems.append("subscriptions: the answer has no data array")
                return nil
            }
            return Set(rows.compactMap { $0["subscriptionId"]?.stringValue?.lowercased() })
        } catch {
            listing.isComplete = false
            listing.problems.append("subscriptions: \(error)")
            return nil
        }
    }

    /// When the user quota is used up, waits until it resets (`x-ms-user-quota-resets-after`, hh:mm:ss).
    func respectQuota(_ headers: HTTPHeaderList) async {
        guard let remaining = headers["x-ms-user-quota-remaining"].flatMap(Int.init), remaining <= 0,
            let reset = headers["x-ms-user-quota-resets-after"].flatMap(Self.parseResetsAfter)
        else { return }
        logger.notice("Resource Graph quota used up; waiting", metadata: ["seconds": .stringConvertible(reset.seconds)])
        try? await Task.sleep(for: reset)
    }

    /// `hh:mm:ss` (fractions allowed) as a duration.
    package static func parseResetsAfter(_ text: String) -> Duration? {
        let parts = text.split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) else {
            return nil
        }
        return .milliseconds(Int64(((h * 60 + m) * 60 + s) * 1000))
    }
}
