import Foundation

/// The resident memory of the soak's processes, sampled while it runs, and how much each grew after warm-up.
package struct MemorySamples: Sendable {
    package struct Sample: Sendable, Equatable, Codable {
        /// Seconds since the soak started.
        package var at: Double
        package var pid: Int32
        package var rssKiB: Int
    }

    /// A process's growth over its samples after warm-up (of its last incarnation: a restarted one starts anew).
    package struct Growth: Sendable, Equatable, Codable {
        package var process: String
        package var samples: Int
        package var restarts: Int
        package var afterWarmUpMiB: Double
        package var lastMiB: Double
        package var peakMiB: Double
        package var growthMiB: Double
        package var growthPercent: Double

        package init(
            process: String, samples: Int, restarts: Int, afterWarmUpMiB: Double, lastMiB: Double, peakMiB: Double,
            growthMiB: Double, growthPercent: Double
        ) {
            self.process = process
            self.samples = samples
            self.restarts = restarts
            self.afterWarmUpMiB = afterWarmUpMiB
            self.lastMiB = lastMiB
            self.peakMiB = peakMiB
            self.growthMiB = growthMiB
            self.growthPercent = growthPercent
        }
    }

    package private(set) var samples: [String: [Sample]] = [:]

    package init() {}

    package mutating func record(_ process: String, pid: Int32, rssKiB: Int, at: Double) {
        samples[process, default: []].append(Sample(at: at, pid: pid, rssKiB: rssKiB))
    }

    /// Each process's growth from its first sample at or after `warmUp` seconds to its last one.
    package func growth(afterWarmUp warmUp: Double) -> [Growth] {
        samples.keys.sorted().compactMap { name in
            let all = samples[name] ?? []
            guard let last = all.last else { return nil }
            let incarnation = all.filter { $0.pid == last.pid }
            let settled = incarnation.filter { $0.at >= warmUp }
            guard let first = settled.first ?? incarnation.first else { return nil }
            let restarts = zip(all, all.dropFirst()).filter { $0.pid != $1.pid }.count
            let growth = Double(last.rssKiB - first.rssKiB) / 1024
            return Growth(
                process: name, samples: all.count, restarts: restarts, afterWarmUpMiB: Double(first.rssKiB) / 1024,
                lastMiB: Double(last.rssKiB) / 1024, peakMiB: Double(all.map(\.rssKiB).max() ?? 0) / 1024,
                growthMiB: growth, growthPercent: first.rssKiB > 0 ? growth * 1024 * 100 / Double(first.rssKiB) : 0)
        }
    }

    /// `VmRSS` of process `pid` in KiB (Linux /proc; nil elsewhere or once it has exited).
    package static func residentKiB(pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return residentKiB(status: text)
    }

    /// `VmRSS` from the text of a /proc/PID/status file.
    package static func residentKiB(status text: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
}

extension SoakChecks {
    /// The processes whose memory grows with what they hold by design: the table emulator keeps the whole table in
    /// memory, the soak its ledger of every acknowledged answer. Their growth is stated, not held to the limit.
    package static let memoryHoldsData: Set<String> = ["table-emulator", "ipam-dev soak"]

    /// Memory flat after warm-up: each service's resident memory grew at most `limitMiB` from its first sample after
    /// `warmUpSeconds` to its last (of its last incarnation), and every process's growth is stated in the detail.
    package static func memory(_ growth: [MemorySamples.Growth], limitMiB: Double, warmUpSeconds: Double) -> Result {
        func mib(_ value: Double) -> String { String(format: "%.1f", value) }
        var problems: [String] = []
        var stated: [String] = []
        for process in growth {
            let text =
                "\(process.process) \(process.growthMiB < 0 ? "" : "+")\(mib(process.growthMiB)) MiB (\(mib(process.afterWarmUpMiB)) → \(mib(process.lastMiB)))"
            if memoryHoldsData.contains(process.process) {
                stated.append(text + " holds data, not held to the limit")
            } else {
                stated.append(text)
                if process.growthMiB > limitMiB {
                    problems.append(
                        "\(process.process) grew \(mib(process.growthMiB)) MiB after warm-up, more than \(mib(limitMiB)) MiB"
                    )
                }
            }
        }
        return Result(
            name: "memory flat after warm-up", problems: problems,
            detail:
                "growth after the first \(Int(warmUpSeconds)) s, at most \(mib(limitMiB)) MiB per service: "
                + stated.joined(separator: "; "))
    }
}
