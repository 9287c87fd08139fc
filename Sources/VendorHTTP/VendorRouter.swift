package import HTTPTypes
package import Hummingbird
import IPAMCore
package import Logging
import NIOCore
package import StrictJSON
import VendorAPI
package import VendorDomain

/// The Vendor's HTTP edge: the routes, and the router with its middleware, one job each, outermost first:
/// request id and log line, security headers, metrics, the one error shape, encoded separators refused; then,
/// inside each route that needs a role, authentication and the role check (`VendorRouteTable`). Routes of other
/// modules (the console) come in through `VendorRouteRegistrar`s.
package enum VendorRouter {
    /// Largest accepted request body.
    package static let maxBodyBytes = 64 * 1024

    /// - Parameters:
    ///   - keys: accepted API keys; `nil` (and no `tokens`) disables authentication (`--insecure-no-auth`).
    ///   - tokens: accepted bearer tokens (Entra ID), when configured.
    ///   - registrars: other modules' routes (the console's), registered after the API's in this order.
    ///   - readiness: checks storage for `/readyz` (nil: ready).
    package static func build(
        service: VendorService, keys: APIKeys?, tokens: TokenAuthentication? = nil,
        adding registrars: [any VendorRouteRegistrar] = [], logger: Logger,
        readiness: @escaping @Sendable () async -> String?
    ) -> Router<VendorRequestContext> {
        let authenticator = Authenticator(
            keys: keys, tokens: tokens, throttle: FailedKeyThrottle(uptime: service.time.uptime), time: service.time)
        let authentication = AuthenticationMiddleware(
            authenticator: authenticator, redactor: service.redactActors ? service.redactor : nil)
        let table = VendorRoutes(service: service, readiness: readiness).table(authentication: authentication)
        for registrar in registrars { registrar.register(on: table, authenticator: authenticator) }
        let (collection, served) = table.finish()
        let router = Router(context: VendorRequestContext.self)
        router.addMiddleware {
            RequestIDMiddleware(logger: logger, authenticationDisabled: authenticator.isDisabled)
            SecurityHeadersMiddleware()
            MetricsMiddleware(metrics: service.metrics)
            ErrorMiddleware(served: served)
            EncodedSeparatorMiddleware()
        }
        router.addRoutes(collection)
        return router
    }

    /// The request body, enforcing JSON content type and the size limit.
    static func jsonBody(_ request: Request) async throws(VendorError) -> [UInt8] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw VendorError(.unsupportedMediaType, "send the body as application/json")
        }
        var collected: ByteBuffer
        do { collected = try await request.body.collect(upTo: maxBodyBytes) } catch {
            throw VendorError(.payloadTooLarge, "the request body exceeds \(maxBodyBytes) bytes")
        }
        return collected.readBytes(length: collected.readableBytes) ?? []
    }

    /// An answer of the API (`API.…`), members in their declared order.
    static func answer(_ status: HTTPResponse.Status, _ body: some Encodable) -> Response {
        jsonResponse(status, bytes: WireEncoder.bytes(body))
    }

    /// `body` as the answer, `application/json; charset=utf-8`.
    package static func jsonResponse(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        jsonResponse(status, bytes: body.serializedBytes)
    }

    /// Bytes of JSON as the answer, `application/json; charset=utf-8`.
    static func jsonResponse(_ status: HTTPResponse.Status, bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
