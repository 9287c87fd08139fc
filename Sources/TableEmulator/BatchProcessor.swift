import AzureCore
import AzureTables
import Foundation
import HTTPTransport

/// Entity group transactions: parses the multipart `$batch` body, applies its one changeset
/// atomically and writes the multipart answer (202 even when an operation failed, as Azure does).
struct BatchProcessor {
    let handler: TableServiceHandler
    let account: String

    struct Operation {
        let table: String
        let write: EntityWrite
        let prefersNoContent: Bool
        let contentID: String?
    }

    func process(_ request: EmulatorRequest) async throws -> EmulatorResponse {
        guard let contentType = request.headers["Content-Type"],
            let batchBoundary = MultipartMixed.boundary(in: contentType)
        else {
            throw TableServiceError.invalidInput("A $batch request needs Content-Type multipart/mixed with a boundary.")
        }
        let batchParts = MultipartMixed.parts(of: request.body[...], boundary: batchBoundary)
        guard batchParts.count == 1 else {
            throw TableServiceError.invalidInput("A batch request must contain exactly one changeset.")
        }
        let changeset = MultipartMixed.message(batchParts[0])
        guard let changesetType = changeset.headers["Content-Type"],
            let changesetBoundary = MultipartMixed.boundary(in: changesetType)
        else {
            throw TableServiceError.invalidInput("Queries inside a batch are not supported; send one changeset.")
        }
        let parts = MultipartMixed.parts(of: changeset.body, boundary: changesetBoundary)
        guard !parts.isEmpty else { throw TableServiceError.invalidInput("The changeset is empty.") }
        guard parts.count <= 100 else {
            throw TableServiceError(
                status: 400, code: "InvalidInput",
                message: "0:The batch request operation exceeds the maximum 100 changes per change set.")
        }
        var operations: [Operation] = []
        var failure: (Int, TableServiceError)? = nil
        for (index, part) in parts.enumerated() {
            do {
                operations.append(try parseOperation(part))
            } catch let error as TableServiceError {
                failure = (index, error)
                break
            }
        }
        if failure == nil, let first = operations.first {
            let pk = first.write.keys.0
            var seen = Set<String>()
            for (index, operation) in operations.enumerated() {
                if operation.write.keys.0 != pk || operation.table.lowercased() != first.table.lowercased() {
                    failure = (
                        index,
                        TableServiceError(
                            status: 400, code: "CommandsInBatchActOnDifferentPartitions",
                            message: "All commands in a batch must operate on same entity group.")
                    )
                    break
                }
                if !seen.insert(operation.write.keys.1).inserted {
                    failure = (
                        index,
                        TableServiceError(
                            status: 400, code: "InvalidDuplicateRow",
                            message:
                                "The batch request contains multiple changes with same row key. An entity can appear only once in a batch request."
                        )
                    )
                    break
                }
            }
        }
        var etags: [String?] = []
        if failure == nil, let first = operations.first {
            // Past the targets the whole request is refused (503), not one operation of the changeset.
            try handler.admit(
                account: account, table: first.table, partitionKey: first.write.keys.0, entities: operations.count)
        }
        if failure == nil {
            do {
                etags = try await handler.store.apply(table: operations[0].table, writes: operations.map(\.write))
            } catch let error as TableServiceError {
                if error.operationIndex == nil && error.code == "TableNotFound" { throw error }
                failure = (error.operationIndex ?? 0, error)
            }
        }
        let batchID = "batchresponse_" + RandomID.uuid()
        let changesetID = "changesetresponse_" + RandomID.uuid()
        var out = "--\(batchID)\r\nContent-Type: multipart/mixed; boundary=\(changesetID)\r\n\r\n"
        if let (index, error) = failure {
            let contentID = index < operations.count ? operations[index].contentID : nil
            out += "--\(changesetID)\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            out += "HTTP/1.1 \(error.status) \(Self.reason(error.status))\r\n"
            if let contentID { out += "Content-ID: \(contentID)\r\n" }
            out += "X-Content-Type-Options: nosniff\r\nDataServiceVersion: 3.0;\r\n"
            out += "Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\n\r\n"
            out += TableServiceHandler.errorBody(error, requestID: RandomID.uuid(), index: index) + "\r\n"
        } else {
            for (operation, etag) in zip(operations, etags) {
                out += "--\(changesetID)\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
                if case .insert(let entity) = operation.write, !operation.prefersNoContent {
                    let stored = try await handler.store.get(
                        table: operation.table, partitionKey: entity.partitionKey, rowKey: entity.rowKey)
                    let format = PayloadFormat(accept: nil)
                    let base = "http://127.0.0.1/\(account)"
                    out += "HTTP/1.1 201 Created\r\n"
                    if let id = operation.contentID { out += "Content-ID: \(id)\r\n" }
                    out +=
                        "DataServiceVersion: 3.0;\r\nContent-Type: \(format.contentType)\r\nPreference-Applied: return-content\r\n"
                    if let etag { out += "ETag: \(etag)\r\n" }
                    out +=
                        "\r\n"
                        + format.entityJSON(
                            pk: entity.partitionKey, rk: entity.rowKey, stored, table: operation.table, base: base,
                            select: nil
                        ).serialized() + "\r\n"
                } else {
                    out += "HTTP/1.1 204 No Content\r\n"
                    if let id = operation.contentID { out += "Content-ID: \(id)\r\n" }
                    out += "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nDataServiceVersion: 1.0;\r\n"
                    if case .insert = operation.write { out += "Preference-Applied: return-no-content\r\n" }
                    if let etag { out += "ETag: \(etag)\r\n" }
                    out += "\r\n"
                }
            }
        }
        out += "--\(changesetID)--\r\n--\(batchID)--\r\n"
        return EmulatorResponse(
            status: 202,
            headers: ["Content-Type": "multipart/mixed; boundary=\(batchID)", "Cache-Control": "no-cache"],
            body: Array(out.utf8))
    }

    private func parseOperation(_ part: ArraySlice<UInt8>) throws -> Operation {
        let mime = MultipartMixed.message(part)
        let http = MultipartMixed.message(mime.body, startLine: true)
        guard let requestLine = http.startLine else {
            throw TableServiceError.invalidInput("An operation of the batch is empty.")
        }
        let words = requestLine.split(separator: " ")
        guard words.count >= 2 else {
            throw TableServiceError.invalidInput("An operation of the batch has no request line.")
        }
        let method = words[0].uppercased()
        let headers = http.headers
        let partHeaders = mime.headers
        let body = Array(http.body.trimmingASCIIWhitespace())
        let (path, _) = URLParts.pathAndQuery(of: String(words[1]))
        var resourcePath = path
        if resourcePath.hasPrefix("/\(account)/") {
            resourcePath = String(resourcePath.dropFirst(account.count + 2))
        } else if resourcePath.hasPrefix("/") {
            resourcePath = String(resourcePath.dropFirst())
        }
        let decoded = PercentEncoding.decode(Substring(TableServiceHandler.plusKept(resourcePath)))
        let resource = try TableServiceHandler.parseResource(decoded)
        let prefersNoContent = headers["Prefer"]?.containsASCIICaseInsensitive("return-no-content") ?? false
        let contentID = headers["Content-ID"] ?? partHeaders["Content-ID"]
        let condition = headers["If-Match"].map(TableServiceHandler.condition)
        switch (resource, method) {
        case (.entities(let table), "POST"):
            let entity = try TableServiceHandler.decodeEntity(body)
            return Operation(
                table: table, write: .insert(entity), prefersNoContent: prefersNoContent, contentID: contentID)
        case (.entity(let table, let pk, let rk), "PUT"), (.entity(let table, let pk, let rk), "MERGE"),
            (.entity(let table, let pk, let rk), "PATCH"):
            try TableServiceHandler.validateKeys(pk, rk)
            var entity = try TableServiceHandler.decodeEntity(body, requireKeys: false)
            try TableServiceHandler.checkBodyKeys(entity, pk: pk, rk: rk)
            entity.partitionKey = pk
            entity.rowKey = rk
            let write: EntityWrite =
                method == "PUT" ? .replace(entity, condition: condition) : .merge(entity, condition: condition)
            return Operation(table: table, write: write, prefersNoContent: prefersNoContent, contentID: contentID)
        case (.entity(let table, let pk, let rk), "DELETE"):
            try TableServiceHandler.validateKeys(pk, rk)
            return Operation(
                table: table, write: .delete(partitionKey: pk, rowKey: rk, condition: condition ?? .any),
                prefersNoContent: prefersNoContent, contentID: contentID)
        default:
            throw TableServiceError(
                status: 400, code: "InvalidInput",
                message: "The batch operation \(method) on this resource is not supported.")
        }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 409: return "Conflict"
        case 412: return "Precondition Failed"
        case 413: return "Request Entity Too Large"
        default: return "Error"
        }
    }
}
