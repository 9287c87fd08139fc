import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import StrictJSON
import Synchronization

@testable import VendorHTTP

/// Sends requests through a router's own responder, in process: no socket, no server.
struct EdgeTestRouter<Context: RequestContext> {
    let responder: RouterResponder<Context>
    let makeContext: @Sendable (Logger) -> Context

    init(_ router: Router<Context>, context makeContext: @escaping @Sendable (Logger) -> Context) {
        responder = router.buildResponder()
        self.makeContext = makeContext
    }

    /// An answer, its body read.
    struct Answer {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
        var json: JSONValue? { try? JSONValue.parse(Array(body.utf8)) }
        /// A member of the JSON object body, as text.
        func text(_ name: String) -> String? { json?.objectValue?.first { $0.0 == name }?.1.stringValue }
    }

    /// Sends a request and reads its answer; an error the router's stack throws is thrown.
    func send(
        _ method: HTTPRequest.Method = .get, _ path: String, headers: HTTPFields = [:],
        logger: Logger = Logger(label: "edge-test"), context: Context? = nil
    ) async throws -> Answer {
        let request = Request(
            head: HTTPRequest(
                method: method, scheme: "http", authority: "localhost", path: path, headerFields: headers),
            body: RequestBody(buffer: ByteBuffer()))
        let response = try await responder.respond(to: request, context: context ?? makeContext(logger))
        let collector = BodyCollector()
        let body = response.body
        try await body.write(collector)
        return Answer(status: response.status, headers: response.headers, body: collector.text)
    }
}

extension EdgeTestRouter where Context == VendorRequestContext {
    init(_ router: Router<VendorRequestContext>) {
        self.init(router) { logger in EdgeTestRouter.context(logger: logger) }
    }

    /// A fresh context, as a connection would make it.
    static func context(logger: Logger = Logger(label: "edge-test")) -> VendorRequestContext {
        VendorRequestContext(
            source: ApplicationRequestContextSource(channel: NIOAsyncTestingChannel(), logger: logger))
    }
}

/// Collects a response body's bytes.
struct BodyCollector: ResponseBodyWriter {
    private let bytes = Shared()

    final class Shared: Sendable {
        let value = Mutex<[UInt8]>([])
    }

    var text: String { String(decoding: bytes.value.withLock { $0 }, as: UTF8.self) }

    mutating func write(_ buffer: ByteBuffer) async throws {
        bytes.value.withLock { $0 += Array(buffer.readableBytesView) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
