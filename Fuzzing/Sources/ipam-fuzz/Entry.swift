import Foundation

// Built by scripts/fuzz (`--sanitize=fuzzer`, `-DFUZZING`), libFuzzer's `main` calls the two functions below.
// `IPAM_FUZZ_TARGET` names the target, so one executable serves them all:
// `IPAM_FUZZ_TARGET=json ipam-fuzz [libFuzzer options] [corpus…]` (scripts/fuzz sets it). In an ordinary build
// (`swift build`, the test suite) `ReplayEntry` is the `main` instead: it runs files through a target once each.

/// The target `IPAM_FUZZ_TARGET` names; exits 2 with the list of targets when it names none.
func chosenTarget() -> (name: String, run: @Sendable ([UInt8]) -> Void) {
    let name = ProcessInfo.processInfo.environment["IPAM_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all.first(where: { $0.name == name }) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("ipam-fuzz: set IPAM_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}

/// Picks the target before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let target = chosenTarget()
    FuzzTargets.selected = target.run
    return 0
}

/// Runs one input through the chosen target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    FuzzTargets.selected?(bytes)
    return 0
}

#if !FUZZING
    /// `ipam-fuzz` without libFuzzer: `IPAM_FUZZ_TARGET=NAME ipam-fuzz FILE|DIRECTORY…` runs every input once through the
    /// target, so the committed seeds and findings are replayed by the ordinary build (`FuzzCorpusTests`). A broken
    /// property traps, as under libFuzzer; otherwise it prints how many inputs ran.
    @main
    enum ReplayEntry {
        static func main() throws {
            let target = chosenTarget()
            var inputs: [String] = []
            for path in CommandLine.arguments.dropFirst() {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    FileHandle.standardError.write(Data("ipam-fuzz: no file \(path)\n".utf8))
                    exit(2)
                }
                if isDirectory.boolValue {
                    inputs += try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
                } else {
                    inputs.append(path)
                }
            }
            for input in inputs {
                target.run(Array(try Data(contentsOf: URL(fileURLWithPath: input))))
            }
            print("ipam-fuzz: \(target.name): \(inputs.count) inputs ran")
        }
    }
#endif
