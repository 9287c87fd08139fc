/// One HTTP request as the transport sends it.
public struct TransportRequest: Sendable {
    /// Any token verb: `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, `MERGE`, ...
    public var method: String
    /// Absolute URL, already percent-encoded as it must appear on the wire.
    public var url: String
    public var headers: HTTPHeaderList
    public var body: [UInt8]?
    /// Limit for the whole transfer (connect, send, receive); `nil` uses the transport's default.
    public var timeout: Duration?

    public init(
        method: String, url: String, headers: HTTPHeaderList = [:], body: [UInt8]? = nil, timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A complete HTTP response.
public struct TransportResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaderList
    public var body: [UInt8]
    /// How the transfer used connections; lets tests and metrics see connection reuse.
    public var connection: ConnectionInfo

    public init(status: Int, headers: HTTPHeaderList, body: [UInt8], connection: ConnectionInfo = .init()) {
        self.status = status
        self.headers = headers
        self.body = body
        self.connection = connection
    }

    /// The body decoded as UTF-8.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Connection facts of one transfer.
public struct ConnectionInfo: Sendable, Equatable {
    /// Local TCP port of the connection that carried the transfer (same port = same connection).
    public var localPort: Int
    /// Connections newly opened for this transfer; 0 means an existing one was reused.
    public var newConnections: Int

    public init(localPort: Int = 0, newConnections: Int = 0) {
        self.localPort = localPort
        self.newConnections = newConnections
    }
}

/// Something that performs HTTP requests; the seam where tests swap in a fake.
public protocol HTTPTransport: Sendable {
    /// Performs `request`; throws `TransportError` when no HTTP response was received.
    /// Any HTTP status (including 4xx/5xx) is a successful return.
    func execute(_ request: TransportRequest) async throws -> TransportResponse
}
