/// One HTTP request as the transport sends it.
package struct TransportRequest: Sendable {
    /// Any token verb: `GET`, `POST`, `PUT`, `DELETE`, `HEAD`, `MERGE`, ...
    package var method: String
    /// Absolute URL, already percent-encoded as it must appear on the wire.
    package var url: String
    package var headers: HTTPHeaderList
    package var body: [UInt8]?
    /// Limit for the whole transfer (connect, send, receive); `nil` uses the transport's default.
    package var timeout: Duration?

    package init(
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
package struct TransportResponse: Sendable {
    package var status: Int
    package var headers: HTTPHeaderList
    package var body: [UInt8]
    /// How the transfer used connections; lets tests and metrics see connection reuse.
    package var connection: ConnectionInfo

    package init(status: Int, headers: HTTPHeaderList, body: [UInt8], connection: ConnectionInfo = .init()) {
        self.status = status
        self.headers = headers
        self.body = body
        self.connection = connection
    }

    /// The body decoded as UTF-8.
    package var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Connection facts of one transfer.
package struct ConnectionInfo: Sendable, Equatable {
    /// Local TCP port of the connection that carried the transfer (same port = same connection).
    package var localPort: Int
    /// Connections newly opened for this transfer; 0 means an existing one was reused.
    package var newConnections: Int

    package init(localPort: Int = 0, newConnections: Int = 0) {
        self.localPort = localPort
        self.newConnections = newConnections
    }
}

/// Something that performs HTTP requests; the seam where tests swap in a fake.
package protocol HTTPTransport: Sendable {
    /// Performs `request`; throws `TransportError` when no HTTP response was received.
    /// Any HTTP status (including 4xx/5xx) is a successful return.
    func execute(_ request: TransportRequest) async throws -> TransportResponse
}
