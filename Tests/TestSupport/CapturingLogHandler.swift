package import Logging
import Synchronization

/// Keeps log lines in memory so tests can assert what was logged (and with which metadata).
package final class LogCapture: Sendable {
    package struct Line: Sendable {
        package let level: Logger.Level
        package let message: String
        package let metadata: [String: String]
    }

    private let lines = Mutex<[Line]>([])
    package init() {}

    package var captured: [Line] { lines.withLock { $0 } }
    package func clear() { lines.withLock { $0.removeAll() } }
    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    /// A logger at `level` writing into this capture.
    package func logger(label: String = "test", level: Logger.Level = .info) -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        var metadataProvider: Logger.MetadataProvider?

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata
            for (key, value) in metadataProvider?.get() ?? [:] { all[key] = value }
            for (key, value) in event.metadata ?? [:] { all[key] = value }
            capture.append(Line(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
        }
    }
}
