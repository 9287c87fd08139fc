import Foundation

/// One child process of the soak (`table-emulator`, a `vendor`, a `manager`, `arg-emulator`): started from the
/// soak's binary directory, ready once it prints its port line; SIGKILLed and started again with the same
/// arguments and port. Its standard error is appended to a log in the soak's data directory.
///
/// `@unchecked Sendable`: the process handle is guarded by `lock`; the soak starts and kills each child from
/// one task at a time.
final class SoakProcess: @unchecked Sendable {
    let name: String
    let executable: String
    let environment: [String: String]
    /// The line that says it is ready, before its port: `port: ` (`metrics port: ` for a Manager).
    let readyPrefix: String
    let logPath: String
    private let lock = NSLock()
    private var process: Process?
    private var arguments: [String]
    private(set) var port = 0

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(
        name: String, executable: String, arguments: [String], environment: [String: String],
        readyPrefix: String = "port: ", logDirectory: String
    ) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.readyPrefix = readyPrefix
        logPath = logDirectory + "/" + name + ".log"
    }

    /// The running process's id (nil while it is down).
    var pid: Int32? {
        lock.withLock { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }
    }

    /// Starts it and waits until it prints its port; `port` says which. A start that reports nothing within
    /// `timeout` is stopped and fails.
    @discardableResult
    func start(timeout: Duration = .seconds(60)) async throws -> Int {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = lock.withLock { arguments }
        child.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = FileHandle(forWritingAtPath: logPath)
        _ = try? log?.seekToEnd()
        child.standardError = log ?? FileHandle.nullDevice
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        try? log?.close()
        lock.withLock { process = child }
        // One that neither gets ready nor exits is stopped after `timeout` (its output then ends).
        let watchdog = Task { [weak self] in
            try await Task.sleep(for: timeout)
            self?.kill()
        }
        defer { watchdog.cancel() }
        let prefix = readyPrefix
        let output = pipe.fileHandleForReading
        let reported: Int? = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                while true {
                    let chunk = SoakPipe.chunk(output)
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }),
                        let port = Int(line.dropFirst(prefix.count).prefix { $0.isNumber })
                    {
                        continuation.resume(returning: port)
                        while !SoakPipe.chunk(output).isEmpty {} // drained: the child never blocks on a full pipe
                        return
                    }
                }
                continuation.resume(returning: nil)
            }
        }
        guard let reported else {
            kill()
            throw Failure(description: "\(name) exited before it was ready (see \(logPath))")
        }
        lock.withLock {
            port = reported
            // A restart listens where it did: the others (and the fault proxy) keep their address for it.
            if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count {
                arguments[index + 1] = "\(reported)"
            }
        }
        return reported
    }

    /// SIGKILL, and waits until it is gone.
    func kill() {
        guard let child = lock.withLock({ process }) else { return }
        if child.isRunning { Foundation.kill(child.processIdentifier, SIGKILL) }
        child.waitUntilExit()
    }

    /// SIGTERM (a graceful stop), and waits until it is gone.
    func stop() {
        guard let child = lock.withLock({ process }) else { return }
        if child.isRunning { child.terminate() }
        child.waitUntilExit()
    }

    /// Starts it again after a kill: on its port, retried while the port is still being released; after that
    /// on a new one (`port` says which).
    func restart() async throws -> Int {
        var failure: (any Error)? = nil
        for _ in 0..<10 {
            do { return try await start(timeout: .seconds(60)) } catch {
                failure = error
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        lock.withLock {
            if let index = arguments.firstIndex(of: "--port"), index + 1 < arguments.count {
                arguments[index + 1] = "0"
            }
        }
        do { return try await start(timeout: .seconds(60)) } catch { throw failure ?? error }
    }
}

/// Reads a child's output, retrying reads a signal interrupted (EINTR: a child exiting sends SIGCHLD).
enum SoakPipe {
    /// The next bytes available (blocking until there are some); empty at end of file.
    static func chunk(_ handle: FileHandle) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return Array(buffer.prefix(count)) }
            if errno != EINTR { return [] }
        }
    }
}
