import Dispatch

/// One parser under fuzzing: `run` feeds it an input and checks what must hold for every input.
///
/// A broken property is reported with `violated`, which traps, so libFuzzer records the input as a crash like any
/// other trap (an out-of-bounds index, an overflow, a stack overflow) or a hang past `-timeout`.
protocol FuzzTarget: Sendable {
    static var name: String { get }
    static func run(_ bytes: [UInt8])
}

enum FuzzTargets {
    /// Every target: its name (`IPAM_FUZZ_TARGET`, the corpus folder) and its `run`.
    static let all: [(name: String, run: @Sendable ([UInt8]) -> Void)] = [
        entry(JSONTarget.self), entry(RequestBodyTarget.self), entry(ConfigurationTarget.self),
        entry(ODataFilterTarget.self),
        entry(BatchTarget.self), entry(NCrontabTarget.self), entry(ScheduleTarget.self), entry(JWTTarget.self),
        entry(ConsoleTarget.self),
        entry(ContinuationTarget.self), entry(AWSXMLTarget.self), entry(CSVTarget.self),
    ]
    /// The target `LLVMFuzzerInitialize` chose (read by libFuzzer's callback, on the one thread libFuzzer runs inputs on).
    nonisolated(unsafe) static var selected: (@Sendable ([UInt8]) -> Void)?

    static func entry<Target: FuzzTarget>(_ target: Target.Type) -> (name: String, run: @Sendable ([UInt8]) -> Void) {
        (Target.name, { Target.run($0) })
    }
}

/// Stops the run: a property every input must keep does not hold for this one.
func violated(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError("property violated: \(message())", file: file, line: line)
}

/// Runs async code to completion from libFuzzer's synchronous callback.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

/// Hands a result from the task to the waiting thread (the semaphore orders the write before the read).
private final class ResultBox<T>: @unchecked Sendable { var value: T? }

extension Array where Element == UInt8 {
    /// The bytes up to the first `separator` and the rest (without it); all of them and nothing without one.
    func split(at separator: UInt8) -> (head: ArraySlice<UInt8>, rest: ArraySlice<UInt8>) {
        guard let index = firstIndex(of: separator) else { return (self[...], []) }
        return (self[..<index], self[(index + 1)...])
    }
}

/// Bytes as text the way a server receives it (invalid UTF-8 replaced, as `String(decoding:)` does).
func text(_ bytes: some Collection<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }
