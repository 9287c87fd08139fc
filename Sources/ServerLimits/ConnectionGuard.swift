import Foundation
import HTTPTypes
import IPAMCore
import Logging
import NIOCore
import StrictJSON

/// One connection's progress through its requests, the deadline that applies to it now, and its place among the
/// server's connections. Lives on the connection's event loop; its two handlers (`SocketSideHandler` below the
/// HTTP codec, `RequestSideHandler` above it) tell it what happens.
///
/// The deadlines: a connection the server owes nothing (no request under way) is closed after the idle timeout;
/// a head must be complete within the header timeout of its first byte (however slowly it trickles); a body within
/// the body timeout of its head. While the server works on an answer nothing is timed, except a client that does not
/// read what it is sent (the idle timeout again). A head or body that runs out of time gets `408 RequestTimeout`.
final class ConnectionGuard {
    /// Which deadline ran out.
    enum Expiry {
        case idle, header, body
        /// The client stopped reading its answer.
        case unread

        var closing: ConnectionClosing {
            switch self {
            case .idle: .idle
            case .header: .header
            case .body: .body
            case .unread: .unread
            }
        }
    }

    /// How long a connection that is sent a last answer may take to read it and close before it is closed.
    static let closingGrace = TimeAmount.seconds(2)

    private let limits: HTTPServerLimits
    private let registry: ConnectionRegistry
    private let logger: Logger
    private let onClose: (@Sendable (ConnectionClosing) -> Void)?
    /// The socket-side handler's context: answers written there go straight to the socket.
    private var context: ChannelHandlerContext?
    /// The connection's id among the served ones; nil when refused, evicted or closing.
    private var id: Int?
    private var evict: (@Sendable () -> Void)?
    private(set) var isClosing = false
    private var countsAsClosing = false

    /// A head was read and its end was not.
    private var requestOpen = false
    /// Heads read whose answer has not ended.
    private var answersOwed = 0
    /// An answer's head is out and its end is not.
    private var answerStarted = false
    /// When the first byte of a head not yet complete arrived.
    private var headStartedAt: NIODeadline?
    private var bodyStartedAt: NIODeadline?
    /// When the server last stopped owing the connection anything.
    private var idleSince = NIODeadline.now()
    /// Since when the socket takes no more of what the server writes.
    private var unwritableSince: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    /// - Parameter onClose: told each time the server closes the connection for one of its limits.
    init(
        limits: HTTPServerLimits, registry: ConnectionRegistry, logger: Logger,
        onClose: (@Sendable (ConnectionClosing) -> Void)?
    ) {
        self.limits = limits
        self.registry = registry
        self.logger = logger
        self.onClose = onClose
    }

    // MARK: What happens on the connection

    /// The connection is open: it is served (perhaps in the place of an evictable one) or refused with `503`.
    func activate(_ context: ChannelHandlerContext) {
        guard self.context == nil, !isClosing else { return }
        self.context = context
        let now = NIODeadline.now()
        idleSince = now
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let evict: @Sendable () -> Void = { loop.execute { bound.value.evicted() } }
        self.evict = evict
        let (id, admission) = registry.admit(at: now, evict: evict)
        self.id = id
        switch admission {
        case .admitted:
            break
        case .admittedEvicting(let victim):
            victim()
        case .refused:
            logger.debug(
                "refused a connection: every connection the server may serve has a request under way",
                metadata: ["peer": .string(peer), "max_connections": .stringConvertible(limits.maxConnections)])
            close(answering: Self.tooManyConnections, because: .refused)
            return
        }
        reschedule()
    }

    /// Bytes arrived: outside a body, they start a head.
    func bytesArrived() {
        guard !requestOpen, headStartedAt == nil else { return }
        headStartedAt = .now()
        reschedule()
    }

    func headRead() {
        headStartedAt = nil
        requestOpen = true
        bodyStartedAt = .now()
        answersOwed += 1
        if answersOwed == 1, let id { registry.setEvictable(id, since: nil) }
        reschedule()
    }

    func endRead() {
        requestOpen = false
        bodyStartedAt = nil
        if answersOwed == 0 { idleSince = .now() }
        reschedule()
    }

    func answerHeadWritten(_ status: HTTPResponse.Status) {
        if status.kind != .informational { answerStarted = true }
    }

    func answerEndWritten() {
        answerStarted = false
        answersOwed = max(0, answersOwed - 1)
        if answersOwed == 0 {
            let now = NIODeadline.now()
            idleSince = now
            // A head that began while the server was answering starts its time now.
            if headStartedAt != nil { headStartedAt = now }
            if let id { registry.setEvictable(id, since: now) }
        }
        reschedule()
    }

    func writabilityChanged(isWritable: Bool) {
        unwritableSince = isWritable ? nil : (unwritableSince ?? .now())
        reschedule()
    }

    /// The connection closed (whoever closed it).
    func deactivate() {
        timer?.cancel()
        timer = nil
        if let id { registry.remove(id) }
        id = nil
        if countsAsClosing { registry.endClosing() }
        countsAsClosing = false
        isClosing = true
        context = nil
        evict = nil
    }

    /// A new connection took this one's place (the registry has forgotten it already).
    private func evicted() {
        guard !isClosing, context != nil, let id else { return }
        if answersOwed > 0, let evict {
            // It became busy before this ran: it stays, over the cap for a moment, rather than lose a request.
            registry.readmit(id, evict: evict)
            return
        }
        self.id = nil
        logger.debug("closed an evictable connection to make room for a new one", metadata: ["peer": .string(peer)])
        close(answering: headStartedAt == nil ? nil : Self.tooManyConnections, because: .evicted)
    }

    /// The client's address, for logs.
    private var peer: String { context?.remoteAddress?.description ?? "-" }

    // MARK: Deadlines

    /// The earliest deadline that applies now, and what it limits.
    private func nextDeadline() -> (at: NIODeadline, expiry: Expiry)? {
        var candidates: [(at: NIODeadline, expiry: Expiry)] = []
        if let unwritableSince { candidates.append((unwritableSince + TimeAmount(limits.idleTimeout), .unread)) }
        if requestOpen, let bodyStartedAt {
            candidates.append((bodyStartedAt + TimeAmount(limits.bodyTimeout), .body))
        } else if answersOwed == 0 {
            if let headStartedAt {
                candidates.append((headStartedAt + TimeAmount(limits.headerTimeout), .header))
            } else {
                candidates.append((idleSince + TimeAmount(limits.idleTimeout), .idle))
            }
        }
        return candidates.min { $0.at < $1.at }
    }

    /// Keeps one timer at or before the earliest deadline (a later timer is replaced; an earlier one re-checks).
    private func reschedule() {
        guard !isClosing, let context, let next = nextDeadline() else { return }
        if timer != nil, let timerDeadline, timerDeadline <= next.at { return }
        timer?.cancel()
        timerDeadline = next.at
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next.at) { self.timerFired() }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard !isClosing, let next = nextDeadline() else { return }
        guard next.at <= .now() else { return reschedule() }
        let reason = next.expiry.closing
        logger.debug("closing a connection: its \(reason.rawValue) timeout ran out", metadata: ["peer": .string(peer)])
        switch next.expiry {
        case .idle, .unread:
            close(answering: nil, because: reason)
        case .header:
            close(answering: Self.requestTimeout(part: "head", after: limits.headerTimeout), because: reason)
        case .body:
            // A 408 only where no other answer is under way or owed before it.
            close(
                answering: answerStarted || answersOwed > 1
                    ? nil : Self.requestTimeout(part: "body", after: limits.bodyTimeout), because: reason)
        }
    }

    // MARK: Closing

    /// Closes the connection, after a last answer when given: the answer, then no more output; the client's own
    /// close (or `closingGrace`) ends it. When too many connections are closing that way already, it closes at once.
    private func close(answering answer: ByteBuffer?, because reason: ConnectionClosing) {
        guard !isClosing, let context else { return }
        isClosing = true
        onClose?(reason)
        timer?.cancel()
        timer = nil
        if let id { registry.remove(id) }
        id = nil
        guard let answer else {
            context.close(promise: nil)
            return
        }
        let written = context.writeAndFlush(NIOAny(answer))
        guard registry.beginClosing() else {
            context.close(promise: nil)
            return
        }
        countsAsClosing = true
        written.assumeIsolated().whenComplete { _ in context.close(mode: .output, promise: nil) }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closingGrace) { context.close(promise: nil) }
    }

    /// The peer closed its side while the connection was closing: it has read its answer.
    func peerFinished() {
        guard isClosing, let context else { return }
        context.close(promise: nil)
    }

    // MARK: Answers

    static var tooManyConnections: ByteBuffer {
        errorAnswer(
            .serviceUnavailable, .tooManyConnections,
            "the server is serving as many connections as it may; retry shortly", retryAfter: 1)
    }

    static func requestTimeout(part: String, after timeout: Duration) -> ByteBuffer {
        let since = part == "head" ? "its first byte" : "its head"
        return errorAnswer(
            .requestTimeout, .requestTimeout,
            "the request's \(part) did not arrive within \(HTTPServerLimits.text(timeout)) of \(since)")
    }

    /// A whole HTTP/1.1 answer with the error body every ipam answer has (`code`, `message`, `requestId`), for a
    /// connection that is closed after it.
    static func errorAnswer(_ status: HTTPResponse.Status, _ code: ErrorCode, _ message: String, retryAfter: Int? = nil)
        -> ByteBuffer
    {
        let requestID = UUID().uuidString.lowercased()
        let body = JSONValue.object([
            ("code", .string(code.rawValue)), ("message", .string(message)), ("requestId", .string(requestID)),
        ])
        .serializedBytes
        var head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n"
        head +=
            "content-type: application/json; charset=utf-8\r\ncontent-length: \(body.count)\r\nconnection: close\r\n"
        head += "x-request-id: \(requestID)\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n"
        if let retryAfter { head += "retry-after: \(retryAfter)\r\n" }
        head += "\r\n"
        var buffer = ByteBuffer()
        buffer.writeString(head)
        buffer.writeBytes(body)
        return buffer
    }
}
