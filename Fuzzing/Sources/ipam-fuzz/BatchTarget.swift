import AzureTables
import HTTPTransport

@testable import TableEmulator

/// The table-emulator's `$batch` (multipart/mixed around a changeset of embedded HTTP requests): the input's
/// first line is the request's Content-Type, the rest its body, applied to an empty in-memory table. The answer
/// is a structured Table service error or a 202 multipart answer that reads back with its own boundary; a
/// changeset with a failed operation writes nothing (a transaction is all or nothing).
enum BatchTarget: FuzzTarget {
    static let name = "batch"
    static let account = "devstoreaccount1"
    static let key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

    static func run(_ bytes: [UInt8]) {
        let (head, rest) = bytes.split(at: UInt8(ascii: "\n"))
        let contentType = text(head.last == UInt8(ascii: "\r") ? head.dropLast() : head)
        let request = EmulatorRequest(
            method: "POST", rawPath: "/\(account)/$batch", query: nil,
            headers: ["Content-Type": contentType], body: Array(rest))
        runBlocking {
            do {
                let store = try TableStore(location: nil)
                try await store.createTable("fuzz")
                let handler = try TableServiceHandler(store: store, accounts: [account: key])
                let response: EmulatorResponse
                do {
                    response = try await BatchProcessor(handler: handler, account: account).process(request)
                } catch let error as TableServiceError {
                    guard (400..<500).contains(error.status) || error.code == "TableNotFound" else {
                        violated("batch refused with \(error)")
                    }
                    return
                }
                guard response.status == 202, let answerType = response.headers["Content-Type"],
                    let boundary = MultipartMixed.boundary(in: answerType)
                else { violated("batch answered \(response.status) without a boundary") }
                let parts = MultipartMixed.parts(of: response.body[...], boundary: boundary)
                guard parts.count == 1 else { violated("the answer has \(parts.count) batch parts") }
                let changeset = MultipartMixed.message(parts[0])
                guard let changesetType = changeset.headers["Content-Type"],
                    let changesetBoundary = MultipartMixed.boundary(in: changesetType)
                else {
                    violated("the answer's changeset has no boundary")
                }
                let statusLines = MultipartMixed.parts(of: changeset.body, boundary: changesetBoundary).map {
                    MultipartMixed.message(MultipartMixed.message($0).body, startLine: true).startLine ?? ""
                }
                guard !statusLines.isEmpty, statusLines.allSatisfy({ $0.hasPrefix("HTTP/1.1 ") }) else {
                    violated("answer status lines \(statusLines)")
                }
                let rows = try await store.query(table: "fuzz", filter: nil, top: 1000, start: nil).rows
                if statusLines.contains(where: { $0.hasPrefix("HTTP/1.1 4") }), !rows.isEmpty {
                    violated("a failed changeset wrote \(rows.count) rows")
                }
            } catch {
                violated("unexpected \(error)")
            }
        }
    }
}
