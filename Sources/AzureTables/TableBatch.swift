import AzureCore
import Foundation
import HTTPTransport

/// One operation of an entity group transaction.
package enum TableTransactionAction: Sendable {
    case insert(TableEntity)
    case replace(TableEntity, ifMatch: ETagCondition)
    case merge(TableEntity, ifMatch: ETagCondition)
    case insertOrReplace(TableEntity)
    case insertOrMerge(TableEntity)
    case delete(partitionKey: String, rowKey: String, ifMatch: ETagCondition)

    /// The partition and row key of the entity it writes or deletes.
    package var keys: (partitionKey: String, rowKey: String) {
        switch self {
        case .insert(let e), .replace(let e, _), .merge(let e, _), .insertOrReplace(let e), .insertOrMerge(let e):
            return (e.partitionKey, e.rowKey)
        case .delete(let pk, let rk, _): return (pk, rk)
        }
    }
}

/// Builds an `$batch` request (one changeset) and reads its multipart answer.
struct TableBatch {
    let client: TableClient
    let actions: [TableTransactionAction]

    func submit() async throws -> [String?] {
        guard !actions.isEmpty else { return [] }
        guard actions.count <= 100 else {
            throw AzureError.invalidRequest("a transaction holds at most 100 operations, got \(actions.count)")
        }
        let partition = actions[0].keys.partitionKey
        var seen = Set<String>()
        for (index, action) in actions.enumerated() {
            let keys = action.keys
            try TableNames.validateKeys(partitionKey: keys.partitionKey, rowKey: keys.rowKey)
            guard keys.partitionKey == partition else {
                throw AzureError.invalidRequest(
                    "operation \(index): all operations of a transaction must share one PartitionKey")
            }
            guard seen.insert(keys.rowKey).inserted else {
                throw AzureError.invalidRequest(
                    "operation \(index): RowKey '\(keys.rowKey)' appears twice in one transaction")
            }
        }
        let batchID = "batch_" + RandomID.uuid()
        let changesetID = "changeset_" + RandomID.uuid()
        let body = makeBody(batchID: batchID, changesetID: changesetID)
        guard body.count <= 4 * 1024 * 1024 else {
            throw AzureError.invalidRequest("a transaction is limited to 4 MiB")
        }
        var request = client.service.makeRequest(
            method: "POST", path: "/$batch", contentType: "multipart/mixed; boundary=\(batchID)")
        request.body = body
        let response = try await client.service.pipeline.send(
            request, idempotent: false, ticket: client.ticket(partition, entities: actions.count))
        return try parse(response)
    }

    /// The multipart body, written as bytes (entities straight from their JSON values, no intermediate text).
    func makeBody(batchID: String, changesetID: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + 640 * actions.count)
        func put(_ text: String) { out.append(contentsOf: text.utf8) }
        put("--\(batchID)\r\nContent-Type: multipart/mixed; boundary=\(changesetID)\r\n\r\n")
        let base = client.service.endpoint
        for (index, action) in actions.enumerated() {
            put("--\(changesetID)\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
            let (method, path, condition, entity): (String, String, ETagCondition?, TableEntity?)
            switch action {
            case .insert(let e): (method, path, condition, entity) = ("POST", "/\(client.name)", nil, e)
            case .replace(let e, let c):
                (method, path, condition, entity) = ("PUT", client.entityPath(e.partitionKey, e.rowKey), c, e)
            case .merge(let e, let c):
                (method, path, condition, entity) = ("MERGE", client.entityPath(e.partitionKey, e.rowKey), c, e)
            case .insertOrReplace(let e):
                (method, path, condition, entity) = ("PUT", client.entityPath(e.partitionKey, e.rowKey), nil, e)
            case .insertOrMerge(let e):
                (method, path, condition, entity) = ("MERGE", client.entityPath(e.partitionKey, e.rowKey), nil, e)
            case .delete(let pk, let rk, let c):
                (method, path, condition, entity) = ("DELETE", client.entityPath(pk, rk), c, nil)
            }
            put("\(method) \(base)\(path) HTTP/1.1\r\nContent-ID: \(index)\r\n")
            put("Accept: application/json;odata=minimalmetadata\r\nDataServiceVersion: 3.0;\r\n")
            if case .insert = action { put("Prefer: return-no-content\r\n") }
            if let condition { put("If-Match: \(condition.headerValue)\r\n") }
            if let entity {
                put("Content-Type: application/json\r\n\r\n")
                EntityCodec.encode(entity).write(to: &out)
                put("\r\n")
            } else {
                put("\r\n")
            }
        }
        put("--\(changesetID)--\r\n--\(batchID)--\r\n")
        return out
    }

    /// Reads the changeset answer: every part's status; an error part fails the whole transaction.
    func parse(_ response: TransportResponse) throws -> [String?] {
        let parts = Self.responses(in: response)
        if let failure = parts.first(where: { $0.status >= 300 }) {
            let decoded = AzureError.decode(status: failure.status, headers: failure.headers, body: Array(failure.body))
            // The index prefix of the message names the failing operation; Content-ID is the fallback.
            let index = decoded.failedOperationIndex ?? failure.headers["Content-ID"].flatMap { Int($0) }
            throw AzureError(
                status: decoded.status, errorCode: decoded.errorCode, message: decoded.message,
                requestID: response.headers["x-ms-request-id"], failedOperationIndex: index)
        }
        guard parts.count == actions.count else {
            throw AzureError.invalidResponse(
                "transaction answer has \(parts.count) parts for \(actions.count) operations")
        }
        return parts.map { $0.headers["ETag"] }
    }

    /// One embedded HTTP answer of a changeset.
    struct PartResponse {
        let status: Int
        let headers: HTTPHeaderList
        let body: ArraySlice<UInt8>
    }

    /// The embedded answers of a `$batch` answer: the batch part holds a changeset, whose parts are HTTP answers.
    /// (A batch that failed as a whole answers one HTTP answer directly in the batch part.)
    static func responses(in response: TransportResponse) -> [PartResponse] {
        // The boundary is in Content-Type; a proxy that dropped the header still leaves it on the first line.
        let firstLine = response.body.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let fallback =
            firstLine.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
            ? String(decoding: firstLine.dropFirst(2), as: UTF8.self) : nil
        guard let boundary = response.headers["Content-Type"].flatMap(MultipartMixed.boundary(in:)) ?? fallback else {
            return []
        }
        var answers: [PartResponse] = []
        func read(_ body: ArraySlice<UInt8>, boundary: String, depth: Int) {
            for part in MultipartMixed.parts(of: body, boundary: boundary) {
                let mime = MultipartMixed.message(part)
                if depth == 0, let inner = mime.headers["Content-Type"].flatMap(MultipartMixed.boundary(in:)) {
                    read(mime.body, boundary: inner, depth: 1)
                    continue
                }
                let http = MultipartMixed.message(mime.body, startLine: true)
                guard let line = http.startLine, line.hasPrefix("HTTP/") else { continue }
                let words = line.split(separator: " ", maxSplits: 2)
                answers.append(
                    PartResponse(
                        status: words.count > 1 ? Int(words[1]) ?? 0 : 0, headers: http.headers,
                        body: http.body.trimmingASCIIWhitespace()))
            }
        }
        read(response.body[...], boundary: boundary, depth: 0)
        return answers
    }
}
