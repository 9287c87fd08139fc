import AzureCore
import Foundation
import HTTPTransport

/// One page of a query.
package struct TablePage: Sendable {
    package let entities: [TableEntity]
    /// Continuation to resume after this page, or `nil` on the last page.
    package let continuation: TableContinuation?
}

/// Where the next page starts (`NextPartitionKey` / `NextRowKey`).
package struct TableContinuation: Sendable, Equatable {
    package let nextPartitionKey: String
    package let nextRowKey: String?
}

/// An entity query as an `AsyncSequence` of pages; `entities` flattens it.
package struct TableQuery: AsyncSequence, Sendable {
    /// `text` as the inside of an OData string literal `'…'` (filters, key paths): single quotes doubled.
    package static func quoted(_ text: String) -> String {
        text.utf8.contains(UInt8(ascii: "'"))
            ? text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") : text
    }

    /// The entities a page's turn is taken for: its `$top` (at most a page of 1,000), else one.
    package static func pageEntities(top: Int?) -> Int { top.map { Swift.min(Swift.max($0, 1), 1000) } ?? 1 }

    /// The partition a filter is confined to when it starts `PartitionKey eq '…'` (then `and` or nothing), else nil.
    static func partition(of filter: String?) -> String? {
        let opening = "PartitionKey eq '"
        guard let filter, filter.hasPrefix(opening) else { return nil }
        var key = ""
        var rest = filter.dropFirst(opening.count)
        while let quote = rest.firstIndex(of: "'") {
            key += rest[..<quote]
            rest = rest[rest.index(after: quote)...]
            if rest.first == "'" {
                key += "'"
                rest = rest.dropFirst()
                continue
            }
            return rest.isEmpty || rest.hasPrefix(" and ") ? key : nil
        }
        return nil
    }

    package typealias Element = TablePage
    let client: TableClient
    let filter: String?
    let select: [String]?
    let top: Int?

    /// Fetches the page that starts at `continuation` (the first page when `nil`).
    package func page(after continuation: TableContinuation?) async throws -> TablePage {
        var parts: [String] = []
        if let filter { parts.append("$filter=" + PercentEncoding.encode(filter)) }
        if let select { parts.append("$select=" + PercentEncoding.encode(select.joined(separator: ","))) }
        if let top { parts.append("$top=\(Swift.min(Swift.max(top, 1), 1000))") }
        if let continuation {
            parts.append("NextPartitionKey=" + PercentEncoding.encode(continuation.nextPartitionKey))
            if let rk = continuation.nextRowKey { parts.append("NextRowKey=" + PercentEncoding.encode(rk)) }
        }
        let request = client.service.makeRequest(
            method: "GET", path: "/\(client.name)()",
            query: parts.isEmpty ? nil : parts.joined(separator: "&"))
        // A query of one partition is paced with it: its turn is taken for what the page may answer (its `$top`,
        // else one entity), then corrected to what it did answer. A page of many entities that took a turn for one
        // would, while storage throttles, be sent again at once after each refusal, never finding room for itself.
        let ticket = Self.partition(of: filter).map {
            client.ticket($0, entities: Self.pageEntities(top: top), settles: true)
        }
        let response = try await client.service.pipeline.send(request, idempotent: true, ticket: ticket)
        let json = try TableClient.parseJSON(response.body)
        var entities: [TableEntity] = []
        for item in json["value"]?.arrayValue ?? [] {
            entities.append(try EntityCodec.decode(item, requireKeys: select == nil))
        }
        if let ticket { client.service.pipeline.settle(ticket, actual: Swift.max(1, entities.count)) }
        let next = response.headers["x-ms-continuation-NextPartitionKey"].map {
            TableContinuation(nextPartitionKey: $0, nextRowKey: response.headers["x-ms-continuation-NextRowKey"])
        }
        return TablePage(entities: entities, continuation: next)
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let query: TableQuery
        var continuation: TableContinuation?
        var finished = false

        package mutating func next() async throws -> TablePage? {
            guard !finished else { return nil }
            let page = try await query.page(after: continuation)
            continuation = page.continuation
            finished = page.continuation == nil
            return page
        }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(query: self) }

    /// The query's entities one by one.
    package var entities: AsyncThrowingStream<TableEntity, any Error> {
        let query = self
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await page in query {
                        for entity in page.entities { continuation.yield(entity) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
