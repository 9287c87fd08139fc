import Foundation

/// The resident memory of the soak's processes, sampled while it runs, and how much each grew after warm-up.
///
/// A process SIGKILLed and started again begins a new *life* (a new pid): each life is judged on its own, from its
/// first sample at least one warm-up after the life began to its last, so a restarted process warming up is never
/// taken for one that leaks. The partition's row count at each checkpoint is kept beside the samples, for the
/// processes whose memory follows the rows they read (a Manager's run holds the scope's rows).
package struct MemorySamples: Sendable {
    package struct Sample: Sendable, Equatable, Codable {
        /// Seconds since the soak started.
        package var at: Double
        package var pid: Int32
        package var rssKiB: Int
    }

    /// The rows of the scope's partition a checkpoint read.
    package struct RowCount: Sendable, Equatable, Codable {
        package var at: Double
        package var rows: Int
    }

    /// One life of a process (one pid) judged after its warm-up: from its first sample at least one warm-up after
    /// the life's first sample, to its last.
    package struct Life: Sendable, Equatable, Codable {
        package var pid: Int32
        package var fromSeconds: Double
        package var toSeconds: Double
        package var fromMiB: Double
        package var toMiB: Double
        /// How many rows the partition gained between the two samples (interpolated between checkpoints; none
        /// counted after the last checkpoint, none when no checkpoint counted rows).
        package var rowsGrown: Int
        /// The partition's rows at the last sample (interpolated as `rowsGrown`; 0 when no checkpoint counted rows).
        package var rowsAtEnd: Int

        package init(
            pid: Int32, fromSeconds: Double, toSeconds: Double, fromMiB: Double, toMiB: Double, rowsGrown: Int,
            rowsAtEnd: Int = 0
        ) {
            self.pid = pid
            self.fromSeconds = fromSeconds
            self.toSeconds = toSeconds
            self.fromMiB = fromMiB
            self.toMiB = toMiB
            self.rowsGrown = rowsGrown
            self.rowsAtEnd = rowsAtEnd
        }

        package var growthMiB: Double { toMiB - fromMiB }
    }

    /// A process's growth after warm-up: every life long enough to judge, and the one that grew the most.
    package struct Growth: Sendable, Equatable, Codable {
        package var process: String
        package var samples: Int
        package var restarts: Int
        /// The lives that outlived their warm-up with two samples or more after it; empty: none could be judged.
        package var lives: [Life]
        /// The life that grew the most (nil when no life could be judged).
        package var worst: Life? { Self.worst(of: lives) }
        /// The figures of `worst` (zeros when no life could be judged), kept in the report.
        package var afterWarmUpMiB: Double
        package var lastMiB: Double
        package var peakMiB: Double
        package var growthMiB: Double
        package var growthPercent: Double

        static func worst(of lives: [Life]) -> Life? { lives.max { $0.growthMiB < $1.growthMiB } }

        package init(process: String, samples: Int, restarts: Int, peakMiB: Double, lives: [Life]) {
            self.process = process
            self.samples = samples
            self.restarts = restarts
            self.peakMiB = peakMiB
            self.lives = lives
            let worst = Self.worst(of: lives)
            afterWarmUpMiB = worst?.fromMiB ?? 0
            lastMiB = worst?.toMiB ?? 0
            growthMiB = worst?.growthMiB ?? 0
            growthPercent = (worst?.fromMiB ?? 0) > 0 ? growthMiB * 100 / (worst?.fromMiB ?? 1) : 0
        }
    }

    package private(set) var samples: [String: [Sample]] = [:]
    package private(set) var rowCounts: [RowCount] = []

    package init() {}

    package mutating func record(_ process: String, pid: Int32, rssKiB: Int, at: Double) {
        samples[process, default: []].append(Sample(at: at, pid: pid, rssKiB: rssKiB))
    }

    /// The partition held `rows` rows at `at` seconds (a checkpoint's read).
    package mutating func recordRows(_ rows: Int, at: Double) {
        rowCounts.append(RowCount(at: at, rows: rows))
        rowCounts.sort { $0.at < $1.at }
    }

    /// The partition's rows at `time`: interpolated between checkpoints, the first count before the first and the
    /// last after the last (so rows gained after the last checkpoint are never allowed for); nil with no count.
    package func rows(at time: Double) -> Int? {
        guard let first = rowCounts.first, let last = rowCounts.last else { return nil }
        if time <= first.at { return first.rows }
        if time >= last.at { return last.rows }
        guard let index = rowCounts.firstIndex(where: { $0.at >= time }), index > 0 else { return last.rows }
        let before = rowCounts[index - 1]
        let after = rowCounts[index]
        guard after.at > before.at else { return after.rows }
        let share = (time - before.at) / (after.at - before.at)
        return before.rows + Int((Double(after.rows - before.rows) * share).rounded())
    }

    /// Each process's growth, every life judged from its first sample at least `warmUp` seconds after the life
    /// began (its first sample) to its last; a life with fewer than two samples after its warm-up is not judged.
    package func growth(afterWarmUp warmUp: Double) -> [Growth] {
        samples.keys.sorted().compactMap { name in
            let all = samples[name] ?? []
            guard !all.isEmpty else { return nil }
            var lives: [[Sample]] = []
            for sample in all {
                if let pid = lives.last?.last?.pid, pid == sample.pid {
                    lives[lives.count - 1].append(sample)
                } else {
                    lives.append([sample])
                }
            }
            let judged = lives.compactMap { life -> Life? in
                guard let began = life.first?.at else { return nil }
                let settled = life.filter { $0.at >= began + warmUp }
                guard settled.count >= 2, let first = settled.first, let last = settled.last else { return nil }
                let grown = rows(at: last.at).flatMap { to in rows(at: first.at).map { max(0, to - $0) } } ?? 0
                return Life(
                    pid: first.pid, fromSeconds: first.at, toSeconds: last.at, fromMiB: Double(first.rssKiB) / 1024,
                    toMiB: Double(last.rssKiB) / 1024, rowsGrown: grown, rowsAtEnd: rows(at: last.at) ?? 0)
            }
            return Growth(
                process: name, samples: all.count, restarts: lives.count - 1,
                peakMiB: Double(all.map(\.rssKiB).max() ?? 0) / 1024, lives: judged)
        }
    }

    /// `VmRSS` (or another `/proc/PID/status` field in kB, such as the peak `VmHWM`) of process `pid` in KiB
    /// (Linux /proc; nil elsewhere or once it has exited).
    package static func residentKiB(pid: Int32, field: String = "VmRSS") -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return residentKiB(status: text, field: field)
    }

    /// `VmRSS` (or another field in kB) from the text of a /proc/PID/status file.
    package static func residentKiB(status text: String, field: String = "VmRSS") -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
}

extension SoakChecks {
    /// The processes whose memory grows with what they hold by design: the table emulator keeps the whole table in
    /// memory, the soak its ledger of every acknowledged answer. Their growth is stated, not held to the limit.
    package static let memoryHoldsData: Set<String> = ["table-emulator", "ipam-dev soak"]

    /// What a service's resident memory may grow by after its warm-up: a flat limit, and for the services whose
    /// memory follows what they hold by design, that on top. A Manager is judged against the partition's size
    /// instead (`managerPerRowKiB`).
    package struct MemoryLimits: Sendable, Equatable {
        /// What any service may grow by (allocator arenas settling, buffers sized by the busiest moment), and what a
        /// Manager may hold beside its share of the partition's rows.
        package var flatMiB: Double
        /// A Manager's run reads and plans over every row of its scope at once, so its memory follows the partition's
        /// size, not the rows gained in one life (a life that starts below its runs' high-water mark grows toward it
        /// however few rows are gained): a Manager holds at most `flatMiB` plus this much per row of the partition,
        /// at each life's last sample.
        package var managerPerRowKiB: Double
        /// A Vendor keeps every network row's prefix of its scope (`OccupiedSpace`): this much more for each row the
        /// partition gained.
        package var vendorPerRowKiB: Double
        /// A Vendor's session cache may still be filling after warm-up: at most this much (its capacity's worth).
        package var vendorSessionCacheMiB: Double

        package init(flatMiB: Double, managerPerRowKiB: Double, vendorPerRowKiB: Double, vendorSessionCacheMiB: Double)
        {
            self.flatMiB = flatMiB
            self.managerPerRowKiB = managerPerRowKiB
            self.vendorPerRowKiB = vendorPerRowKiB
            self.vendorSessionCacheMiB = vendorSessionCacheMiB
        }

        /// Whether `process` is judged by what it holds against the partition's size rather than by its growth.
        package func judgesHeld(_ process: String) -> Bool { process.hasPrefix("manager-") }

        /// KiB per row gained that `process` may grow by (0: its growth does not follow the partition).
        package func perRowKiB(_ process: String) -> Double {
            process.hasPrefix("vendor-") ? vendorPerRowKiB : 0
        }

        /// MiB of bounded caches `process` may fill after warm-up.
        package func cacheMiB(_ process: String) -> Double {
            process.hasPrefix("vendor-") ? vendorSessionCacheMiB : 0
        }

        /// What `process` may grow by in a life that saw `rowsGrown` rows added, and how that was reckoned.
        package func allowed(_ process: String, rowsGrown: Int) -> (mib: Double, reckoning: String) {
            let rows = Double(rowsGrown) * perRowKiB(process) / 1024
            let cache = cacheMiB(process)
            var parts = [mib(flatMiB)]
            if cache > 0 { parts.append("\(mib(cache)) MiB session cache") }
            if perRowKiB(process) > 0 { parts.append("\(mib(perRowKiB(process))) KiB × \(rowsGrown) rows gained") }
            let total = flatMiB + cache + rows
            return (
                total, parts.count == 1 ? "\(mib(total)) MiB" : "\(mib(total)) MiB (\(parts.joined(separator: " + ")))"
            )
        }

        /// What a Manager may hold when the partition has `rows` rows, and how that was reckoned.
        package func held(rows: Int) -> (mib: Double, reckoning: String) {
            let total = flatMiB + Double(rows) * managerPerRowKiB / 1024
            return (
                total,
                "\(mib(total)) MiB (\(mib(flatMiB)) + \(mib(managerPerRowKiB)) KiB × \(rows) rows of the partition)"
            )
        }

        /// The limits, for the check's detail.
        var description: String {
            "at most \(mib(flatMiB)) MiB per service (a Vendor: \(mib(vendorPerRowKiB)) KiB more per row the partition "
                + "gained and its session cache, \(mib(vendorSessionCacheMiB)) MiB); a Manager holds at most "
                + "\(mib(flatMiB)) MiB + \(mib(managerPerRowKiB)) KiB per row of the partition"
        }
    }

    /// Memory flat after warm-up: each life of each service grew at most what `limits` allow it from its first
    /// sample after its own warm-up to its last, and every process's growth (its life that grew the most) is stated
    /// in the detail.
    package static func memory(_ growth: [MemorySamples.Growth], limits: MemoryLimits, warmUpSeconds: Double) -> Result
    {
        var problems: [String] = []
        var stated: [String] = []
        for process in growth {
            guard let worst = process.worst else {
                stated.append("\(process.process) not judged (no life outlived its warm-up)")
                continue
            }
            let life = process.restarts > 0 ? ", its life from \(Int(worst.fromSeconds)) s" : ""
            let rows =
                limits.judgesHeld(process.process)
                ? ", \(worst.rowsAtEnd) rows in the partition"
                : limits.perRowKiB(process.process) > 0 ? ", \(worst.rowsGrown) rows gained" : ""
            let text =
                "\(process.process) \(worst.growthMiB < 0 ? "" : "+")\(mib(worst.growthMiB)) MiB (\(mib(worst.fromMiB)) → \(mib(worst.toMiB))\(life)\(rows))"
            if memoryHoldsData.contains(process.process) {
                stated.append(text + " holds data, not held to the limit")
                continue
            }
            stated.append(text)
            for life in process.lives {
                let when =
                    process.restarts > 0 ? " (pid \(life.pid), \(Int(life.fromSeconds))–\(Int(life.toSeconds)) s)" : ""
                if limits.judgesHeld(process.process) {
                    let held = limits.held(rows: life.rowsAtEnd)
                    guard life.toMiB > held.mib else { continue }
                    problems.append(
                        "\(process.process) held \(mib(life.toMiB)) MiB at \(Int(life.toSeconds)) s\(when), more than \(held.reckoning)"
                    )
                    continue
                }
                let allowed = limits.allowed(process.process, rowsGrown: life.rowsGrown)
                guard life.growthMiB > allowed.mib else { continue }
                problems.append(
                    "\(process.process) grew \(mib(life.growthMiB)) MiB after warm-up\(when), more than \(allowed.reckoning)"
                )
            }
        }
        return Result(
            name: "memory flat after warm-up", problems: problems,
            detail: "growth after the first \(Int(warmUpSeconds)) s of each life, \(limits.description): "
                + stated.joined(separator: "; "))
    }

    private static func mib(_ value: Double) -> String { String(format: "%.1f", value) }
}
