import HTTPTypes
package import HummingbirdCore
package import Logging
import NIOCore
import NIOHTTPTypes

extension HTTPServerBuilder {
    /// HTTP/1.1 under `limits`: idle, header and body timeouts on every connection, and at most
    /// `limits.maxConnections` served at once (an idle one makes room for a new one; when none is idle the new one
    /// gets `503 TooManyConnections` with `Connection: close`).
    ///
    /// Every server of the project is built with this, so all of them behave alike under slow or idle clients.
    /// - Parameter onClose: told each time the server closes a connection for one of its limits (metrics).
    package static func http1(
        limits: HTTPServerLimits, logger: Logger, onClose: (@Sendable (ConnectionClosing) -> Void)? = nil
    ) -> HTTPServerBuilder {
        .init { responder in
            GuardedHTTP1Channel(
                responder: responder, limits: limits,
                registry: ConnectionRegistry(capacity: limits.maxConnections), logger: logger, onClose: onClose)
        }
    }
}

/// Why the server closed a connection.
package enum ConnectionClosing: String, Sendable, CaseIterable {
    /// Nothing was under way for the idle timeout.
    case idle
    /// A head did not arrive within the header timeout (answered 408).
    case header
    /// A body did not arrive within the body timeout (answered 408 unless another answer was under way).
    case body
    /// The client did not read its answer within the idle timeout.
    case unread
    /// A new connection took its place (it was idle, or still sending a head: answered 503).
    case evicted
    /// Every place was taken by a request under way (answered 503 at accept).
    case refused
}

/// Hummingbird's HTTP/1.1 child channel with a `ConnectionGuard` on each connection: `SocketSideHandler` first in
/// the pipeline (it sees every byte as it arrives, and writes refusals and timeouts straight to the socket),
/// `RequestSideHandler` after the HTTP codec (it sees where requests and answers begin and end).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let limits: HTTPServerLimits
    let registry: ConnectionRegistry
    let logger: Logger
    let onClose: (@Sendable (ConnectionClosing) -> Void)?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let connection = ConnectionGuard(limits: limits, registry: registry, logger: self.logger, onClose: onClose)
        do {
            try channel.pipeline.syncOperations.addHandler(SocketSideHandler(connection))
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let requestSide = NIOLoopBound(RequestSideHandler(connection), eventLoop: channel.eventLoop)
        // Hummingbird's own idle timeout stays off: the guard's deadlines cover it.
        let http = HTTP1Channel(
            responder: responder, configuration: .init(additionalChannelHandlers: [requestSide.value]))
        return http.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// First in the pipeline: tells the guard of the connection's opening, bytes, writability and closing; discards
/// what arrives once the connection is closing.
final class SocketSideHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: ConnectionGuard

    init(_ connection: ConnectionGuard) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { connection.activate(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connection.activate(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !connection.isClosing else { return }
        connection.bytesArrived()
        context.fireChannelRead(data)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.writabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if connection.isClosing, case ChannelEvent.inputClosed? = event as? ChannelEvent {
            connection.peerFinished()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.deactivate()
        context.fireChannelInactive()
    }
}

/// After the HTTP codec: tells the guard where requests and answers begin and end.
final class RequestSideHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connection: ConnectionGuard

    init(_ connection: ConnectionGuard) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: connection.headRead()
        case .body: break
        case .end: connection.endRead()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head): connection.answerHeadWritten(head.status)
        case .body: break
        case .end: connection.answerEndWritten()
        }
        context.write(data, promise: promise)
    }
}
