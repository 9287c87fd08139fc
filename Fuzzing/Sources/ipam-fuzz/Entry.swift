import Foundation

// libFuzzer's `main` (linked by `--sanitize=fuzzer`) calls these two. `IPAM_FUZZ_TARGET` names the target, so one
// executable serves them all: `IPAM_FUZZ_TARGET=json ipam-fuzz [libFuzzer options] [corpus…]` (scripts/fuzz sets it).

/// Picks the target before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    let name = ProcessInfo.processInfo.environment["IPAM_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all.first(where: { $0.name == name }) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("ipam-fuzz: set IPAM_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
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
