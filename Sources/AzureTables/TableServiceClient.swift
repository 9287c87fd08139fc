package import AzureCore
import Foundation
package import HTTPTransport
package import Logging

/// Client for one storage account's Table service (tables, and `TableClient`s for entities).
package struct TableServiceClient: Sendable {
    /// Service version sent on every request (what current SDKs send; Azurite always accepts it).
    package static let serviceVersion = "2019-02-02"

    package let endpoint: String
    package let pipeline: AzurePipeline

    package init(endpoint: String, pipeline: AzurePipeline) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.pipeline = pipeline
    }

    /// A client authorised by the connection string's Shared Key, or by `credential` when the
    /// string has no key (Entra ID bearer tokens for `https://storage.azure.com/`).
    package init(
        connectionString: StorageConnectionString, transport: any HTTPTransport,
        credential: (any TokenCredential)? = nil, retryPolicy: RetryPolicy = .init(),
        logger: Logger = Logger(label: "ipam.tables", factory: { _ in SwiftLogNoOpLogHandler() }),
        onAttempt: (@Sendable (AzurePipeline.AttemptRecord) -> Void)? = nil, admission: AdmissionControl? = nil
    ) throws {
        let authorizer: any RequestAuthorizer
        if let key = connectionString.accountKey {
            authorizer = SharedKeyAuthorizer(
                signer: try SharedKeySigner(accountName: connectionString.accountName, base64Key: key))
        } else if let credential {
            authorizer = BearerTokenAuthorizer(credential: credential, scope: .storage)
        } else {
            throw StorageConnectionString.ParseError(
                field: "AccountKey", reason: "missing, and no token credential was given")
        }
        self.init(
            endpoint: connectionString.tableEndpoint,
            pipeline: AzurePipeline(
                transport: transport, authorizer: authorizer, retryPolicy: retryPolicy,
                logger: logger, onAttempt: onAttempt, admission: admission))
    }

    /// A client for the entities of `name` (no request is made).
    package func table(_ name: String) -> TableClient { TableClient(service: self, name: name) }

    /// Creates a table. With `ifNotExists`, an existing table is not an error.
    /// - Returns: true when this call created it.
    @discardableResult
    package func createTable(_ name: String, ifNotExists: Bool = false) async throws -> Bool {
        try TableNames.validateTableName(name)
        let body = JSONValue.object([("TableName", .string(name))]).serialized()
        var request = makeRequest(method: "POST", path: "/Tables", contentType: "application/json")
        request.headers["Prefer"] = "return-no-content"
        request.body = Array(body.utf8)
        do {
            // With `ifNotExists` the create is idempotent (a repeat of one that went through answers
            // TableAlreadyExists, which is success): a timeout or a 5xx is retried like a read.
            _ = try await pipeline.send(request, idempotent: ifNotExists)
            return true
        } catch let error as AzureError where ifNotExists && error.isConflict && error.errorCode == "TableAlreadyExists"
        {
            return false
        }
    }

    /// Deletes a table. With `ifExists`, a missing table is not an error.
    package func deleteTable(_ name: String, ifExists: Bool = false) async throws {
        try TableNames.validateTableName(name)
        let request = makeRequest(method: "DELETE", path: "/Tables('\(name)')")
        do {
            _ = try await pipeline.send(request, idempotent: true)
        } catch let error as AzureError where ifExists && error.isNotFound {
        }
    }

    /// Names of all tables, following `NextTableName` continuation.
    package func listTables() async throws -> [String] {
        var names: [String] = []
        var next: String? = nil
        repeat {
            var query = "$top=1000"
            if let next { query += "&NextTableName=\(PercentEncoding.encode(next))" }
            let response = try await pipeline.send(
                makeRequest(method: "GET", path: "/Tables", query: query), idempotent: true)
            let json = try TableClient.parseJSON(response.body)
            for item in json["value"]?.arrayValue ?? [] {
                if let name = item["TableName"]?.stringValue { names.append(name) }
            }
            next = response.headers["x-ms-continuation-NextTableName"]
        } while next != nil
        return names
    }

    /// A request with the Table service's common headers (date and signature are added per attempt).
    package func makeRequest(method: String, path: String, query: String? = nil, contentType: String? = nil)
        -> TransportRequest
    {
        var url = endpoint + path
        if let query { url += "?" + query }
        var headers: HTTPHeaderList = [
            "x-ms-version": Self.serviceVersion,
            "Accept": "application/json;odata=minimalmetadata",
            "DataServiceVersion": "3.0;NetFx",
            "MaxDataServiceVersion": "3.0;NetFx",
        ]
        if let contentType { headers["Content-Type"] = contentType }
        return TransportRequest(method: method, url: url, headers: headers)
    }
}
