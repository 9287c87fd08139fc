package import Foundation

/// The soak's JSON report (`ipam-dev soak --report`) and its one summary line.
package struct SoakReport: Sendable, Codable {
    package struct Run: Sendable, Codable {
        package var startedAt: Date
        package var plannedSeconds: Double
        package var ranSeconds: Double
        package var clients: Int
        package var warmUpSeconds: Double
        package var processes: [String]

        package init(
            startedAt: Date, plannedSeconds: Double, ranSeconds: Double, clients: Int, warmUpSeconds: Double,
            processes: [String]
        ) {
            self.startedAt = startedAt
            self.plannedSeconds = plannedSeconds
            self.ranSeconds = ranSeconds
            self.clients = clients
            self.warmUpSeconds = warmUpSeconds
            self.processes = processes
        }
    }

    /// One fault as it ran.
    package struct FaultRun: Sendable, Codable, Equatable {
        /// Seconds from the start.
        package var at: Double
        package var fault: String
        package var seconds: Double
        package var note: String

        package init(at: Double, fault: String, seconds: Double, note: String) {
            self.at = at
            self.fault = fault
            self.seconds = seconds
            self.note = note
        }
    }

    package struct Checkpoint: Sendable, Codable {
        package var at: Double
        package var final: Bool
        package var checks: [SoakChecks.Result]
        package var passed: Bool { checks.allSatisfy(\.passed) }

        package init(at: Double, final: Bool, checks: [SoakChecks.Result]) {
            self.at = at
            self.final = final
            self.checks = checks
        }

        enum CodingKeys: String, CodingKey { case at, final, passed, checks }
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(at, forKey: .at)
            try container.encode(final, forKey: .final)
            try container.encode(passed, forKey: .passed)
            try container.encode(checks, forKey: .checks)
        }
        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            at = try container.decode(Double.self, forKey: .at)
            final = try container.decode(Bool.self, forKey: .final)
            checks = try container.decode([SoakChecks.Result].self, forKey: .checks)
        }
    }

    package var passed: Bool
    package var run: Run
    /// Operations by kind (`new lease`, `replay`, …) and answers by status (`201`, `503`, `0` for no answer).
    package var operations: [String: Int]
    package var answers: [String: Int]
    package var faults: [FaultRun]
    /// What the fault proxy did (`forwarded`, `serverBusy`, `preconditionStorm`, …).
    package var proxy: [String: Int]
    package var checkpoints: [Checkpoint]
    package var memory: [MemorySamples.Growth]
    /// Problems of the soak itself (a process that would not restart, say): any fails the run.
    package var problems: [String]

    package init(
        run: Run, operations: [String: Int], answers: [String: Int], faults: [FaultRun], proxy: [String: Int],
        checkpoints: [Checkpoint], memory: [MemorySamples.Growth], problems: [String]
    ) {
        self.run = run
        self.operations = operations
        self.answers = answers
        self.faults = faults
        self.proxy = proxy
        self.checkpoints = checkpoints
        self.memory = memory
        self.problems = problems
        passed =
            !checkpoints.isEmpty && checkpoints.allSatisfy(\.passed) && problems.isEmpty
            && checkpoints.contains(where: \.final)
    }

    package func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    package static func decode(_ data: Data) throws -> SoakReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(SoakReport.self, from: data)
    }

    /// One line: the verdict, the run's length, the work, the faults, the checks and the memory growth.
    package var summary: String {
        let work = operations.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        let faultCounts = Dictionary(grouping: faults, by: \.fault).mapValues(\.count)
        let faultText = faultCounts.sorted { $0.key < $1.key }.map { "\($0.value)x \($0.key)" }.joined(separator: ", ")
        let failed = checkpoints.flatMap { point in
            point.checks.filter { !$0.passed }.map { "\($0.name) at \(Int(point.at)) s" }
        }
        let checks = checkpoints.last?.checks.count ?? 0
        let memoryText = memory.map { "\($0.process) \(Self.signed($0.growthMiB)) MiB" }.joined(separator: ", ")
        let verdict = failed.isEmpty ? ", all passed" : ", failed: " + failed.prefix(5).joined(separator: "; ")
        return "soak: \(passed ? "PASSED" : "FAILED") after \(Int(run.ranSeconds.rounded())) s (planned "
            + "\(Int(run.plannedSeconds.rounded())) s), \(run.clients) clients: \(work); faults: \(faultText); "
            + "\(checks) checks at \(checkpoints.count) checkpoints\(verdict)"
            + (problems.isEmpty ? "" : "; problems: " + problems.prefix(3).joined(separator: "; "))
            + "; memory after warm-up: \(memoryText)"
    }

    /// `+1.5`, `-0.3`: one decimal, always signed.
    static func signed(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let magnitude = abs(tenths)
        return (tenths < 0 ? "-" : "+") + "\(magnitude / 10).\(magnitude % 10)"
    }
}
