import AzureCore
import Foundation

/// An append-only log of JSON lines plus a snapshot, in one folder.
///
/// Every record is written with `write(2)` before the change it describes is acknowledged, so an
/// acknowledged change survives the process being killed (SIGKILL). With `syncEveryWrite` each
/// record is also `fsync`ed, which makes it survive a machine crash too. A torn last line (a crash
/// mid-write) is ignored on replay. At start-up the log is folded into a new snapshot.
final class PersistenceLog: @unchecked Sendable {
    // @unchecked: only used from inside the TableStore actor, which serialises every call.
    private let directory: String
    private let syncEveryWrite: Bool
    private var fd: Int32 = -1

    var snapshotPath: String { directory + "/snapshot.jsonl" }
    var logPath: String { directory + "/wal.jsonl" }

    init(directory: String, syncEveryWrite: Bool) throws {
        self.directory = directory
        self.syncEveryWrite = syncEveryWrite
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Calls `apply` for each record of the snapshot, then of the log.
    func replay(_ apply: (JSONValue) -> Void) throws {
        for path in [snapshotPath, logPath] {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            var start = data.startIndex
            while start < data.endIndex {
                let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
                if end > start, let record = try? JSONValue.parse(Array(data[start..<end])) { apply(record) }
                start = end < data.endIndex ? data.index(after: end) : end
            }
        }
    }

    /// Writes `records` as the new snapshot (atomically, via rename) and starts an empty log.
    func compact(snapshot records: [JSONValue]) throws {
        let temporary = snapshotPath + ".tmp"
        var bytes: [UInt8] = []
        for record in records {
            record.write(to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard out >= 0 else {
            throw TableServiceError(status: 500, code: "InternalError", message: "cannot write \(temporary)")
        }
        try Self.writeAll(out, bytes)
        fsync(out)
        close(out)
        guard rename(temporary, snapshotPath) == 0 else {
            throw TableServiceError(status: 500, code: "InternalError", message: "cannot rename snapshot")
        }
        if fd >= 0 { close(fd) }
        fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        guard fd >= 0 else {
            throw TableServiceError(status: 500, code: "InternalError", message: "cannot open \(logPath)")
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Appends one record; returns only once the kernel has it (and the disk, with `syncEveryWrite`).
    func append(_ record: JSONValue) throws {
        var bytes = record.serializedBytes
        bytes.append(UInt8(ascii: "\n"))
        try Self.writeAll(fd, bytes)
        if syncEveryWrite { fsync(fd) }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TableServiceError(status: 500, code: "InternalError", message: "write failed: errno \(errno)")
            }
            offset += written
        }
    }
}
