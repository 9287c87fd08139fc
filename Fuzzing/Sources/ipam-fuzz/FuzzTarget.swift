import Dispatch

/// One parser under fuzzing: `run` feeds it an input and checks what must hold for every input.
///
/// A broken property is reported with `violated`, which traps, so libFuzzer records the input as a crash like any
/// other trap (an out-of-bounds index, an overflow, a stack overflow) or a hang past `-timeout`.
protocol FuzzTarget {
    static var name: String { get }
    static func run(_ bytes: [UInt8])
}

enum FuzzTargets {
    static let all: [any FuzzTarget.Type] = [
        JSONTarget.self, RequestBodyTarget.self, ConfigurationTarget.self, ODataFilterTarget.self, BatchTarget.self,
        NCrontabTarget.self, ScheduleTarget.self, JWTTarget.self, ConsoleTarget.self, ContinuationTarget.self,
    ]
    /// The target `main` chose (read by libFuzzer's callback, on the one thread libFuzzer runs inputs on).
    nonisolated(unsafe) static var selected: (any FuzzTarget.Type)?
}

/// Stops the run: a property every input must keep does not hold for this one.
func violated(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("property violated: \(message())", file: file, line: line)
}

/// Runs async code to completion from libFuzzer's synchronous callback.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    final class Box: @unchecked Sendable { var value: T? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

extension Array where Element == UInt8 {
    /// The bytes up to the first `separator` and the rest (without it); all of them and nothing without one.
    func split(at separator: UInt8) -> (head: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        guard let index = firstIndex(of: separator) else { return (self[...], []) }
        return (self[..<index], self[(index + 1)...])
    }
}

/// Bytes as text the way a server receives it (invalid UTF-8 replaced, as `String(decoding:)` does).
func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
