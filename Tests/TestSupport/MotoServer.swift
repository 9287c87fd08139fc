import Foundation
import HTTPTransport

#if canImport(Glibc)
    import Glibc
#endif

/// `moto_server` (PyPI `moto[server]`, AWS's API emulator) on a loopback port, for tests against EC2 and STS as
/// an independent peer. scripts/setup-python installs it in `.venv`; CI sets `IPAM_REQUIRE_MOTO` so a test that
/// needs it fails there instead of being skipped.
package final class MotoServer: Sendable {
    package let url: String
    package let port: Int
    private let process: Process

    /// `MOTO_SERVER`, else the repository's `.venv/bin/moto_server`, else `moto_server` on the PATH.
    package static var binary: String? {
        let environment = ProcessInfo.processInfo.environment
        if let named = environment["MOTO_SERVER"], FileManager.default.isExecutableFile(atPath: named) { return named }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let local = root.appendingPathComponent(".venv/bin/moto_server").path
        if FileManager.default.isExecutableFile(atPath: local) { return local }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/moto_server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Whether tests that need moto run: it is installed, or CI requires it (then a missing one fails them).
    package static var shouldRun: Bool {
        binary != nil || ProcessInfo.processInfo.environment["IPAM_REQUIRE_MOTO"] == "1"
    }

    private init(url: String, port: Int, process: Process) {
        self.url = url
        self.port = port
        self.process = process
    }

    /// Starts a fresh moto_server (an empty world) and waits until it answers as moto.
    ///
    /// A free port is free only until someone binds it: another test's server may take it between `freePort()` and
    /// moto's bind, and then a connection succeeds while moto has failed to start (a test's EC2 calls once reached
    /// another suite's scripted `UnauthorizedOperation`). So moto is asked who it is (`/moto-api/data.json`) before it
    /// is used (its JSON, from its Werkzeug server: the tests' fake servers are Hummingbird), and started again on
    /// another port when it is not the one answering.
    package static func start() async throws -> MotoServer {
        guard let binary else {
            throw TestFailure("moto_server is missing: run scripts/setup-python (requirements.txt has moto[server])")
        }
        for _ in 0..<5 {
            let port = try freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let server = MotoServer(url: "http://127.0.0.1:\(port)", port: port, process: process)
            if try await server.answersAsMoto() { return server }
            server.stop()
        }
        throw TestFailure("moto_server did not start on a port of its own in five tries")
    }

    /// Waits until this process's moto answers on its port: false when the process exits first (its port was
    /// taken) or 30 s pass.
    private func answersAsMoto() async throws -> Bool {
        for _ in 0..<300 {
            guard process.isRunning else { return false }
            if Self.canConnect(port),
                let answer = try? await HTTPCalls.send("GET", url + "/moto-api/data.json", timeout: .seconds(5)),
                answer.status == 200, answer.json != nil, answer.headers["Server"]?.hasPrefix("Werkzeug") == true,
                process.isRunning
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Runs `body` with a fresh moto_server, stopped after it.
    package static func with<T: Sendable>(_ body: (MotoServer) async throws -> T) async throws -> T {
        let server = try await start()
        defer { server.stop() }
        return try await body(server)
    }

    /// Stops it: SIGTERM, then SIGKILL when it is still there after three seconds (moto_server's threads can
    /// outlive its SIGTERM handler).
    package func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<30 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// A loopback port nobody listens on now (bound, then closed).
    package static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestFailure("bind: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { throw TestFailure("getsockname: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
