import Foundation
import StrictJSON
import Synchronization

/// `ipam-mcp` over its standard input and output, as an agent drives it: JSON-RPC lines, `initialize` first, then
/// tool calls. The soak keeps one running for the whole run and calls a few tools at every checkpoint.
///
/// `@unchecked Sendable`: the process and its pipes are only used by the soak's checkpoint loop, one call at a
/// time; the lines read arrive through an `AsyncStream`.
final class SoakMCP: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let lines: AsyncStream<String>
    private var iterator: AsyncStream<String>.Iterator
    private var nextId = 1

    init(executable: String, vendorURL: String, key: String, logPath: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["stdio", "--vendor-url", vendorURL, "--log-level", "error"]
        process.environment = ProcessInfo.processInfo.environment.merging(["IPAM_API_KEY": key]) { _, new in new }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath) ?? FileHandle.nullDevice
        process.standardInput = input
        let output = Pipe()
        process.standardOutput = output
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        iterator = stream.makeAsyncIterator()
        try process.run()
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            var pending = ""
            while true {
                let chunk = SoakPipe.chunk(handle)
                if chunk.isEmpty { break }
                pending += String(decoding: chunk, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    continuation.yield(String(pending[..<newline]))
                    pending = String(pending[pending.index(after: newline)...])
                }
            }
            continuation.finish()
        }
    }

    /// `initialize`, then `notifications/initialized`.
    func initialize() async throws {
        _ = try await request(
            "initialize",
            #"{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"ipam-dev-soak","version":"1"}}"#)
        send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
    }

    /// Calls a tool; its structured content, or nil when the tool answered an error.
    func call(_ tool: String, arguments: String) async throws -> JSONValue? {
        let answer = try await request("tools/call", #"{"name":"\#(tool)","arguments":\#(arguments)}"#)
        guard let result = answer["result"], result["isError"] != .bool(true) else { return nil }
        return result["structuredContent"]
    }

    /// The names of its tools.
    func tools() async throws -> [String] {
        let answer = try await request("tools/list", "{}")
        return answer["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    private func send(_ line: String) {
        // A write to an ipam-mcp that has exited fails (SIGPIPE is ignored by the soak); `request` then
        // fails when its output ends.
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Sends a request and waits for the answer with its id (notifications in between are skipped).
    private func request(_ method: String, _ params: String) async throws -> JSONValue {
        let id = nextId
        nextId += 1
        send(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#)
        while let line = await iterator.next() {
            guard let message = try? JSONValue.parse(line) else { continue }
            if message["id"] == .number("\(id)") { return message }
        }
        throw SoakProcess.Failure(description: "ipam-mcp exited")
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }
}
