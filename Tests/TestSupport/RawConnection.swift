import Foundation
package import StrictJSON

/// A TCP connection to a local server, driven byte by byte: for tests of idle, half-sent and slow clients, which
/// an HTTP client library cannot be made to be.
///
/// The socket is non-blocking once connected; nothing here waits on the concurrency pool's threads.
package final class RawConnection: @unchecked Sendable {
    // @unchecked: a connection is used by one task (or one waiting thread) at a time.
    private var descriptor: Int32
    /// Everything the server sent.
    package private(set) var received: [UInt8] = []
    /// The server closed the connection (end of file or reset).
    package private(set) var closedByServer = false

    /// Connects to 127.0.0.1:`port`, waiting at most `timeout` (a server that stopped accepting leaves a
    /// connection waiting in its backlog, or drops it).
    /// - Parameter receiveBuffer: the socket's receive buffer (`SO_RCVBUF`): a small one makes a client that does
    ///   not read stall the server's writes soon.
    package init(port: Int, timeout: Duration = .seconds(10), receiveBuffer: Int32? = nil) throws {
        descriptor = socket(AF_INET, Self.streamType, 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let started = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var error = started == 0 ? 0 : errno
        if error == EINPROGRESS {
            var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let milliseconds = Int32(
                timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            if poll(&entry, 1, milliseconds) == 1 {
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            } else {
                error = ETIMEDOUT
            }
        }
        guard error == 0 else {
            closeDescriptor(descriptor)
            throw TestFailure("connect to port \(port): errno \(error)")
        }
    }

    deinit { close() }

    /// Sends `text`; false when the server has closed the connection.
    @discardableResult
    package func send(_ text: String) -> Bool {
        guard descriptor >= 0 else { return false }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { Self.sendBytes(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes = bytes.dropFirst(count)
                continue
            }
            if errno == EINTR || errno == EAGAIN { continue }
            closedByServer = true
            return false
        }
        return true
    }

    /// Reads what the server has sent without waiting; notes whether it has closed.
    package func readAvailable() {
        guard descriptor >= 0, !closedByServer else { return }
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer.prefix(count)
                continue
            }
            if count < 0, errno == EINTR { continue }
            if count < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            closedByServer = true // 0: end of file; an error: reset
            return
        }
    }

    /// Closes this side.
    package func close() {
        if descriptor >= 0 { closeDescriptor(descriptor) }
        descriptor = -1
    }

    /// What the server sent, as an HTTP answer (nil when it sent nothing, or no whole head).
    package var answer: RawAnswer? { RawAnswer(parsing: received) }

    fileprivate var pollDescriptor: Int32 { descriptor }

    #if canImport(Darwin)
        private static let streamType = SOCK_STREAM
        private static func sendBytes(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
            Darwin.send(fd, pointer, count, 0)
        }
    #else
        private static let streamType = Int32(SOCK_STREAM.rawValue)
        private static func sendBytes(_ fd: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
            Glibc.send(fd, pointer, count, Int32(MSG_NOSIGNAL))
        }
    #endif
}

#if canImport(Darwin)
    private func closeDescriptor(_ fd: Int32) { _ = Darwin.close(fd) }
#else
    private func closeDescriptor(_ fd: Int32) { _ = Glibc.close(fd) }
#endif

/// An HTTP/1.1 answer read off a raw connection.
package struct RawAnswer: Sendable {
    package let status: Int
    /// Header names in lower case.
    package let headers: [String: String]
    package let body: [UInt8]
    package var json: JSONValue? { try? JSONValue.parse(body) }
    package var code: String? { json?["code"]?.stringValue }

    init?(parsing bytes: [UInt8]) {
        guard let headEnd = Self.find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let lines = String(decoding: bytes[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        var body = Array(bytes[(headEnd + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = Self.unchunked(body) }
        self.status = status
        self.headers = headers
        self.body = body
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        return (start...(bytes.count - pattern.count)).first { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    private static func unchunked(_ bytes: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while let lineEnd = find([13, 10], in: bytes, from: index) {
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            body += bytes[start..<min(start + size, bytes.count)]
            index = start + size + 2
            if index >= bytes.count { break }
        }
        return body
    }
}

/// Raw connections by the hundred, and single exchanges on fresh connections.
package enum RawHTTP {
    /// Opens `count` connections to `port`, sending `opening` on each (nothing when empty).
    package static func open(_ count: Int, port: Int, sending opening: String = "") throws -> [RawConnection] {
        try (0..<count).map { _ in
            let connection = try RawConnection(port: port)
            if !opening.isEmpty { connection.send(opening) }
            return connection
        }
    }

    /// Waits, on a thread of its own, until the server has closed every one of `connections` (reading what it
    /// sends them), or `bound` has passed. Returns the connections still open.
    package static func waitUntilClosed(_ connections: [RawConnection], within bound: Duration) async -> [RawConnection]
    {
        await onThread {
            let deadline = ContinuousClock.now + bound
            var open = connections.filter { !$0.closedByServer }
            while !open.isEmpty, ContinuousClock.now < deadline {
                var descriptors = open.map { pollfd(fd: $0.pollDescriptor, events: Int16(POLLIN), revents: 0) }
                _ = poll(&descriptors, nfds_t(descriptors.count), 100)
                for (index, entry) in descriptors.enumerated() where entry.revents != 0 { open[index].readAvailable() }
                open.removeAll { $0.closedByServer }
            }
            return open
        }
    }

    /// Sends `request` on a fresh connection and returns the server's answer once it has closed the connection
    /// (send `Connection: close`), or what arrived within `bound`.
    package static func exchange(port: Int, _ request: String, within bound: Duration = .seconds(30)) async throws
        -> RawAnswer
    {
        let connection = try RawConnection(port: port)
        connection.send(request)
        _ = await waitUntilClosed([connection], within: bound)
        connection.close()
        guard let answer = connection.answer else {
            throw TestFailure(
                "no answer to \(request.prefix(60)): \(String(decoding: connection.received, as: UTF8.self))")
        }
        return answer
    }

    /// A request with `Connection: close` (and the body's length when there is one).
    package static func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil)
        -> String
    {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        return text
    }

    /// Runs blocking `work` on a thread of its own (never on the concurrency pool).
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
