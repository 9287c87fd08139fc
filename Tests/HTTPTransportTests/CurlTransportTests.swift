import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

@Suite("CurlTransport over real sockets")
struct CurlTransportTests {
    let transport = CurlTransport(configuration: .init(connectTimeout: .seconds(2), requestTimeout: .seconds(10)))

    static func echo(_ request: EmulatorRequest) async -> EmulatorResponse {
        var headers: HTTPHeaderList = [
            "X-Method": request.method, "X-Path": request.rawPath + (request.query.map { "?" + $0 } ?? ""),
        ]
        headers["X-Content-Type"] = request.headers["Content-Type"] ?? "<none>"
        headers["X-Expect"] = request.headers["Expect"] ?? "<none>"
        headers["X-Custom"] = request.headers["X-Custom"] ?? "<none>"
        return EmulatorResponse(status: 200, headers: headers, body: request.body)
    }

    @Test(
        "every verb, including MERGE, carries its body and headers",
        arguments: ["GET", "POST", "PUT", "MERGE", "DELETE", "PATCH"])
    func verbs(method: String) async throws {
        try await TestServers.withFakeServer(Self.echo) { port in
            let body: [UInt8]? = method == "GET" || method == "DELETE" ? nil : Array("{\"a\":1}".utf8)
            var headers: HTTPHeaderList = ["X-Custom": "value 1"]
            if body != nil { headers["Content-Type"] = "application/json" }
            let response = try await transport.execute(
                TransportRequest(
                    method: method, url: "http://127.0.0.1:\(port)/p/a%27th?x=1&y=%20", headers: headers, body: body))
            #expect(response.status == 200)
            #expect(response.headers["x-method"] == method)
            #expect(response.headers["X-Path"] == "/p/a%27th?x=1&y=%20")
            #expect(response.headers["X-Custom"] == "value 1")
            #expect(response.body == (body ?? []))
            #expect(response.headers["X-Content-Type"] == (body == nil ? "<none>" : "application/json"))
        }
    }

    @Test("a body without Content-Type gets none invented, and no Expect: 100-continue even when large")
    func noInventedHeaders() async throws {
        try await TestServers.withFakeServer(Self.echo) { port in
            let big = [UInt8](repeating: 65, count: 2 * 1024 * 1024)
            let response = try await transport.execute(
                TransportRequest(method: "PUT", url: "http://127.0.0.1:\(port)/", body: big))
            #expect(response.headers["X-Content-Type"] == "<none>")
            #expect(response.headers["X-Expect"] == "<none>")
            #expect(response.body.count == big.count)
        }
    }

    @Test("sequential requests to one host reuse one TCP connection")
    func connectionReuse() async throws {
        try await TestServers.withFakeServer(Self.echo) { port in
            var ports = Set<Int>()
            var newConnections = 0
            for index in 0..<20 {
                let response = try await transport.execute(
                    TransportRequest(
                        method: index % 2 == 0 ? "GET" : "POST", url: "http://127.0.0.1:\(port)/r\(index)",
                        headers: ["Content-Type": "text/plain"], body: index % 2 == 0 ? nil : [1, 2, 3]))
                #expect(response.status == 200)
                ports.insert(response.connection.localPort)
                newConnections += response.connection.newConnections
            }
            #expect(ports.count == 1, "all 20 requests used local port(s) \(ports)")
            #expect(newConnections == 1)
        }
    }

    @Test("concurrent requests all complete")
    func concurrent() async throws {
        try await TestServers.withFakeServer(Self.echo) { port in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        let r = try await transport.execute(
                            TransportRequest(
                                method: "POST", url: "http://127.0.0.1:\(port)/c",
                                headers: ["Content-Type": "text/plain"], body: Array("\(index)".utf8)))
                        #expect(r.bodyText == "\(index)")
                        return r.status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 64 && statuses.allSatisfy { $0 == 200 })
        }
    }

    @Test("connection refused is a typed error")
    func refused() async throws {
        let port = try freePort()
        await #expect {
            _ = try await transport.execute(TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"))
        } throws: { ($0 as? TransportError)?.isConnectionRefused == true }
    }

    @Test("the total timeout aborts a slow answer")
    func timeout() async throws {
        _ = try await TestServers.withFakeServer({ request in
            try? await Task.sleep(for: .milliseconds(1500))
            return await Self.echo(request)
        }) { port in
            // The answer would come after 1.5 s: a timeout error (not the answer) shows the 300 ms limit held.
            await #expect {
                _ = try await transport.execute(
                    TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/", timeout: .milliseconds(300)))
            } throws: { ($0 as? TransportError)?.isTimeout == true }
        }
    }

    @Test("cancelling the task aborts the transfer")
    func cancellation() async throws {
        try await TestServers.withFakeServer({ request in
            try? await Task.sleep(for: .milliseconds(1500))
            return await Self.echo(request)
        }) { port in
            // Uncancelled, the answer would arrive after 1.5 s: `cancelled` (not the answer) shows the abort.
            let task = Task {
                try await transport.execute(TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"))
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = await task.result
            #expect(throws: TransportError.cancelled()) { try result.get() }
            // The transport still works afterwards.
            let after = try await transport.execute(
                TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/x", timeout: .seconds(5)))
            #expect(after.status == 200)
        }
    }

    @Test("a task cancelled before its request began sends nothing and gets `cancelled`")
    func cancelledBeforeTheTransferBegan() async throws {
        let served = Mutex(0)
        try await TestServers.withFakeServer({ request in
            served.withLock { $0 += 1 }
            return await Self.echo(request)
        }) { port in
            // Cancelled before `execute`: its cancel command reaches the loop thread before its add, as it does for a
            // task cancelled while `execute` submits. The loop used to ignore a cancel for a transfer it had not
            // begun, and then sent the request and waited for its answer.
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await transport.execute(TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"))
            }
            let result = await task.result
            #expect(throws: TransportError.cancelled()) { try result.get() }
            let after = try await transport.execute(
                TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/x", timeout: .seconds(5)))
            #expect(after.status == 200)
            #expect(served.withLock { $0 } == 1, "only the request after it reached the server")
        }
    }

    @Test("transports dropped while their loops are awake shut down cleanly, many at once")
    func manyTransportsComeAndGo() async throws {
        // Each transport's loop thread frees its multi handle when it sees the stop; the dropping thread's
        // wakeup used to follow the stop outside the lock, so a loop that woke in between freed the handle the
        // wakeup then touched. A crash (or a sanitizer's report) here is that race.
        try await TestServers.withFakeServer(Self.echo) { port in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let transport = CurlTransport()
                        let response = try await transport.execute(
                            TransportRequest(
                                method: "GET", url: "http://127.0.0.1:\(port)/\(index)", timeout: .seconds(10)))
                        return response.status
                    }
                }
                for try await status in group { #expect(status == 200) }
            }
        }
    }

    @Test("header injection and bad verbs are refused before sending")
    func invalidRequests() async throws {
        await #expect {
            _ = try await transport.execute(
                TransportRequest(method: "GET", url: "http://127.0.0.1:1/", headers: ["X-Bad": "a\r\nInjected: yes"]))
        } throws: { ($0 as? TransportError)?.isInvalidRequest == true }
        await #expect {
            _ = try await transport.execute(TransportRequest(method: "GE T", url: "http://127.0.0.1:1/"))
        } throws: { ($0 as? TransportError)?.isInvalidRequest == true }
    }

    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
