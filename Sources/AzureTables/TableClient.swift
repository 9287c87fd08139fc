import AzureCore
import Foundation
import HTTPTransport

/// Which version of an entity a write applies to.
package enum ETagCondition: Sendable, Equatable {
    /// `If-Match: *`: any existing version (fails with 404 when there is none).
    case any
    /// `If-Match: <etag>`: only that version (fails with 412 when it changed).
    case etag(String)

    var headerValue: String {
        switch self {
        case .any: return "*"
        case .etag(let value): return value
        }
    }
}

/// Entity operations on one table. Every method throws `AzureError`
/// (`isPreconditionFailed` 412, `isConflict` 409, `isNotFound` 404, `isThrottled`, `isUnauthorized`, …).
package struct TableClient: Sendable {
    package let service: TableServiceClient
    package let name: String

    // MARK: Writes

    /// Inserts a new entity; 409 `EntityAlreadyExists` when the keys are taken.
    /// - Returns: the new ETag.
    @discardableResult
    package func insert(_ entity: TableEntity) async throws -> String {
        try TableNames.validateKeys(partitionKey: entity.partitionKey, rowKey: entity.rowKey)
        var request = service.makeRequest(method: "POST", path: "/\(name)", contentType: "application/json")
        request.headers["Prefer"] = "return-no-content"
        request.body = EntityCodec.encode(entity).serializedBytes
        return try etag(
            of: try await service.pipeline.send(
                request, idempotent: false, ticket: ticket(entity.partitionKey, entities: 1)))
    }

    /// Replaces the whole entity (`PUT` with `If-Match`).
    @discardableResult
    package func replace(_ entity: TableEntity, ifMatch condition: ETagCondition) async throws -> String {
        try await write(entity, method: "PUT", condition: condition)
    }

    /// Merges the given properties into the entity (`MERGE` with `If-Match`).
    @discardableResult
    package func merge(_ entity: TableEntity, ifMatch condition: ETagCondition) async throws -> String {
        try await write(entity, method: "MERGE", condition: condition)
    }

    /// Inserts, or replaces whatever is there (`PUT` without `If-Match`).
    @discardableResult
    package func insertOrReplace(_ entity: TableEntity) async throws -> String {
        try await write(entity, method: "PUT", condition: nil)
    }

    /// Inserts, or merges into whatever is there (`MERGE` without `If-Match`).
    @discardableResult
    package func insertOrMerge(_ entity: TableEntity) async throws -> String {
        try await write(entity, method: "MERGE", condition: nil)
    }

    /// Deletes an entity (`If-Match` is required by the service; `.any` deletes any version).
    package func delete(partitionKey: String, rowKey: String, ifMatch condition: ETagCondition = .any) async throws {
        try TableNames.validateKeys(partitionKey: partitionKey, rowKey: rowKey)
        var request = service.makeRequest(method: "DELETE", path: entityPath(partitionKey, rowKey))
        request.headers["If-Match"] = condition.headerValue
        _ = try await service.pipeline.send(
            request, idempotent: condition == .any, ticket: ticket(partitionKey, entities: 1))
    }

    private func write(_ entity: TableEntity, method: String, condition: ETagCondition?) async throws -> String {
        try TableNames.validateKeys(partitionKey: entity.partitionKey, rowKey: entity.rowKey)
        var request = service.makeRequest(
            method: method, path: entityPath(entity.partitionKey, entity.rowKey),
            contentType: "application/json")
        if let condition { request.headers["If-Match"] = condition.headerValue }
        request.body = EntityCodec.encode(entity).serializedBytes
        // A blind upsert or replace is safe to repeat; a conditional write whose answer was lost is not
        // (its repeat would see 412 although the first attempt won).
        let idempotent = method == "PUT" && (condition == nil || condition == .any)
        return try etag(
            of: try await service.pipeline.send(
                request, idempotent: idempotent, ticket: ticket(entity.partitionKey, entities: 1)))
    }

    // MARK: Reads

    /// The entity, or `nil` when it does not exist.
    package func get(partitionKey: String, rowKey: String, select: [String]? = nil) async throws -> TableEntity? {
        try TableNames.validateKeys(partitionKey: partitionKey, rowKey: rowKey)
        var query: String? = nil
        if let select { query = "$select=" + PercentEncoding.encode(select.joined(separator: ",")) }
        let request = service.makeRequest(method: "GET", path: entityPath(partitionKey, rowKey), query: query)
        let response: TransportResponse
        do {
            response = try await service.pipeline.send(
                request, idempotent: true, ticket: ticket(partitionKey, entities: 1))
        } catch let error as AzureError where error.isNotFound && error.errorCode != "TableNotFound" {
            return nil
        }
        var entity = try EntityCodec.decode(try Self.parseJSON(response.body), requireKeys: select == nil)
        if let etag = response.headers["ETag"] { entity.etag = etag }
        return entity
    }

    /// Entities matching an OData `$filter`, page by page (each page ≤ `top`, ≤ 1,000), following
    /// `x-ms-continuation-*` headers. Pages may be empty and still continue.
    package func query(filter: String? = nil, select: [String]? = nil, top: Int? = nil) -> TableQuery {
        TableQuery(client: self, filter: filter, select: select, top: top)
    }

    /// All entities matching `filter`, collected.
    package func queryAll(filter: String? = nil, select: [String]? = nil) async throws -> [TableEntity] {
        var all: [TableEntity] = []
        for try await page in query(filter: filter, select: select) { all.append(contentsOf: page.entities) }
        return all
    }

    /// All entities matching `filter`, each turned into a row by `row` (nil: left out) as its page arrives: only
    /// one page of entities is held at a time, not the whole answer beside its rows.
    package func queryAll<Row>(
        filter: String? = nil, select: [String]? = nil, _ row: (TableEntity) throws -> Row?
    ) async throws -> [Row] {
        var all: [Row] = []
        for try await page in query(filter: filter, select: select) { all += try page.entities.compactMap(row) }
        return all
    }

    // MARK: Transactions

    /// Commits the actions atomically as one entity group transaction (one partition, ≤ 100 actions).
    /// - Returns: the new ETag of each action (nil for deletes), in order.
    /// - Throws: `AzureError` naming the failing action in `failedOperationIndex`; nothing was applied.
    @discardableResult
    package func submitTransaction(_ actions: [TableTransactionAction]) async throws -> [String?] {
        try await TableBatch(client: self, actions: actions).submit()
    }

    // MARK: Helpers

    /// What a request to `partitionKey` of this table costs, for the pipeline's admission control.
    /// - Parameter settles: `entities` is an estimate corrected once the answer says (a query page).
    func ticket(_ partitionKey: String, entities: Int, settles: Bool = false) -> AdmissionControl.Ticket {
        AdmissionControl.Ticket(
            key: Self.admissionKey(table: name, partitionKey: partitionKey), entities: entities, settles: settles)
    }

    /// The admission control's name for a partition: the table (lower-cased, as the service compares table
    /// names) and the partition key.
    package static func admissionKey(table: String, partitionKey: String) -> String {
        table.lowercased() + "/" + partitionKey
    }

    func entityPath(_ partitionKey: String, _ rowKey: String) -> String {
        "/\(name)(PartitionKey='\(Self.keyLiteral(partitionKey))',RowKey='\(Self.keyLiteral(rowKey))')"
    }

    /// A key inside `'…'` in a URL path: quotes doubled, then percent-encoded.
    static func keyLiteral(_ key: String) -> String {
        PercentEncoding.encode(TableQuery.quoted(key))
    }

    func etag(of response: TransportResponse) throws -> String {
        guard let etag = response.headers["ETag"] else { throw AzureError.invalidResponse("answer has no ETag header") }
        return etag
    }

    static func parseJSON(_ body: [UInt8]) throws -> JSONValue {
        do { return try JSONValue.parse(body) } catch { throw AzureError.invalidResponse("\(error)") }
    }
}
