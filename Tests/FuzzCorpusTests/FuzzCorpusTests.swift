import Foundation
import TestSupport
import Testing

/// Every committed fuzz seed and finding (`Fuzzing/Corpus/TARGET/`) run once through its target by the ordinary
/// build of `ipam-fuzz`, so a finding stays fixed between fuzzing runs: a broken property traps the process.
@Suite("Fuzz corpora replayed")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzzing/Corpus")

    static var targets: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: corpus.path)) ?? []).sorted()
    }

    @Test("the corpus has a folder per fuzz target")
    func folders() {
        #expect(Self.targets.count >= 10, "\(Self.targets)")
    }

    @Test("every seed and finding runs through its target without breaking a property", arguments: targets)
    func replay(target: String) async throws {
        let folder = Self.corpus.appendingPathComponent(target).path
        let inputs = try FileManager.default.contentsOfDirectory(atPath: folder).count
        let run = try await ProcessStack.runToCompletion(
            "ipam-fuzz", arguments: [folder], environment: ["IPAM_FUZZ_TARGET": target, "SWIFT_BACKTRACE": "enable=no"])
        #expect(run.status == 0, "\(target): \(run.output)")
        #expect(run.output.contains("ipam-fuzz: \(target): \(inputs) inputs ran"), "\(run.output)")
    }

    @Test("an unknown target is refused with the list of targets")
    func unknownTarget() async throws {
        let run = try await ProcessStack.runToCompletion(
            "ipam-fuzz", arguments: [], environment: ["IPAM_FUZZ_TARGET": "no-such-target"], capture: .standardError)
        #expect(run.status == 2)
        #expect(run.output.contains("json"), "\(run.output)")
    }
}
