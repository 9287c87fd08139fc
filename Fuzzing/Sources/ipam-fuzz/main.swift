import CFuzzerDriver
import Foundation

/// `ipam-fuzz TARGET [libFuzzer options and corpus directories…]`: runs libFuzzer on one parser.
///
/// Every target is one type of `FuzzTargets.all`; the first argument picks it and the rest goes to libFuzzer
/// unchanged (`-max_total_time=20 Fuzzing/Corpus/json`, or a crash file to replay it).
var arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTargets.all.first(where: { $0.name == arguments[1] }) else {
    let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
    FileHandle.standardError.write(Data("usage: ipam-fuzz TARGET [libFuzzer options] [corpus…]\ntargets: \(names)\n".utf8))
    exit(2)
}
FuzzTargets.selected = target
arguments.remove(at: 1)

// libFuzzer reads (and may rewrite) argc/argv as C strings; they live until the process ends.
var argc = CInt(arguments.count)
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = .allocate(capacity: arguments.count + 1)
for (index, argument) in arguments.enumerated() { argv![index] = strdup(argument) }
argv![arguments.count] = nil
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    FuzzTargets.selected?.run(bytes)
    return 0
})
