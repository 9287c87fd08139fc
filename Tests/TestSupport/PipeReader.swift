package import Foundation

/// Reads child processes' output without Foundation's `FileHandle.availableData` / `readDataToEndOfFile`,
/// which end the whole test process with a fatal error when a read is interrupted by a signal (EINTR: a
/// child exiting sends SIGCHLD, and the tests start and kill many): these retry interrupted reads.
package enum PipeReader {
    /// The next bytes available on `handle` (blocking until there are some); empty at end of file.
    package static func chunk(_ handle: FileHandle) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return Array(buffer.prefix(count)) }
            if errno != EINTR { return [] }
        }
    }

    /// Everything until end of file.
    package static func all(_ handle: FileHandle) -> [UInt8] {
        var bytes: [UInt8] = []
        while true {
            let next = chunk(handle)
            if next.isEmpty { return bytes }
            bytes += next
        }
    }

    /// `all(handle)` on a thread of its own: the calling task suspends rather than blocking a thread of Swift's
    /// cooperative pool, which every test running at once shares.
    package static func allOffPool(_ handle: FileHandle) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: all(handle)) }
        }
    }

    /// `chunk(handle)` on a thread of its own (see `allOffPool`).
    package static func chunkOffPool(_ handle: FileHandle) async -> [UInt8] {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: chunk(handle)) }
        }
    }

    /// Reads and drops everything until end of file on a thread of its own (so a child never blocks on a full pipe).
    package static func drain(_ handle: FileHandle) {
        Thread.detachNewThread { while !chunk(handle).isEmpty {} }
    }
}

extension Process {
    /// Waits until the process has exited, on a thread of its own (see `PipeReader.allOffPool`).
    package func exited() async {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                self.waitUntilExit()
                continuation.resume()
            }
        }
    }
}
