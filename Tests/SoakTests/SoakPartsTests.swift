import Foundation
import Soak
import Testing

/// The soak's fault schedule, memory samples and report, without running it.
@Suite("Soak schedule, memory and report")
struct SoakPartsTests {
    @Test("a short run brings every fault once, in its first 80 %, in order of time")
    func shortSchedule() {
        let length = Duration.seconds(60)
        let schedule = SoakSchedule(length: length)
        #expect(Set(schedule.steps.map(\.fault)) == Set(SoakSchedule.Fault.allCases))
        #expect(schedule.steps.count == SoakSchedule.Fault.allCases.count)
        #expect(schedule.steps.allSatisfy { $0.at > .zero && $0.at <= length * 0.8 })
        #expect(schedule.steps.map(\.at) == schedule.steps.map(\.at).sorted())
        #expect(schedule.steps.allSatisfy { $0.lasting > .zero })
    }

    @Test("an hour is six rounds of every fault; kills stay down at most 5 s, windows at most 30 s")
    func hourSchedule() {
        let schedule = SoakSchedule(length: .seconds(3600))
        #expect(schedule.steps.count == 6 * SoakSchedule.Fault.allCases.count)
        for fault in SoakSchedule.Fault.allCases {
            #expect(schedule.steps.filter { $0.fault == fault }.count == 6)
        }
        let kills: Set<SoakSchedule.Fault> = [.killStorage, .killVendor, .killManager]
        #expect(schedule.steps.filter { kills.contains($0.fault) }.allSatisfy { $0.lasting <= .seconds(5) })
        #expect(schedule.steps.allSatisfy { $0.lasting <= .seconds(30) })
        // The last fault of the hour leaves its last round's final fifth calm.
        #expect(schedule.steps.map(\.at).max()! <= .seconds(3600 - 120))
    }

    @Test("VmRSS read from /proc/PID/status text; this process's own is there on Linux")
    func resident() {
        let status = "Name:\tvendor\nVmPeak:\t  300000 kB\nVmRSS:\t   51234 kB\nThreads:\t8\n"
        #expect(MemorySamples.residentKiB(status: status) == 51234)
        #expect(MemorySamples.residentKiB(status: "Name:\tx\n") == nil)
        #if os(Linux)
            #expect((MemorySamples.residentKiB(pid: getpid()) ?? 0) > 0)
        #endif
    }

    @Test("growth is measured after warm-up, over a restarted process's last incarnation only")
    func growth() throws {
        var samples = MemorySamples()
        samples.record("vendor-0", pid: 10, rssKiB: 10_240, at: 0)
        samples.record("vendor-0", pid: 10, rssKiB: 40_960, at: 60)
        samples.record("vendor-0", pid: 11, rssKiB: 20_480, at: 120)
        samples.record("vendor-0", pid: 11, rssKiB: 22_528, at: 180)
        samples.record("storage", pid: 5, rssKiB: 8_192, at: 0)
        samples.record("storage", pid: 5, rssKiB: 16_384, at: 60)
        samples.record("storage", pid: 5, rssKiB: 17_408, at: 120)
        let growth = Dictionary(uniqueKeysWithValues: samples.growth(afterWarmUp: 60).map { ($0.process, $0) })
        let vendor = try #require(growth["vendor-0"])
        #expect(vendor.restarts == 1)
        #expect(vendor.afterWarmUpMiB == 20)
        #expect(vendor.growthMiB == 2)
        #expect(vendor.peakMiB == 40)
        let storage = try #require(growth["storage"])
        #expect(storage.afterWarmUpMiB == 16)
        #expect(storage.growthMiB == 1)
    }

    static func report(_ checks: [SoakChecks.Result], problems: [String] = []) -> SoakReport {
        SoakReport(
            run: SoakReport.Run(
                startedAt: Date(timeIntervalSince1970: 0), plannedSeconds: 60, ranSeconds: 75, clients: 8,
                warmUpSeconds: 10, processes: ["vendor-0"]),
            operations: ["new leases": 10, "replays": 5], answers: ["201": 10, "200": 5],
            faults: [SoakReport.FaultRun(at: 3, fault: "storage SIGKILLed", seconds: 1, note: "")], proxy: [:],
            checkpoints: [SoakReport.Checkpoint(at: 70, final: true, checks: checks)], memory: [], problems: problems)
    }

    @Test("the report passes only when every check of every checkpoint passed and nothing else went wrong")
    func verdict() throws {
        let good = SoakChecks.Result(name: "no acknowledged lease lost", problems: [], detail: "")
        let bad = SoakChecks.Result(name: "quotas exact", problems: ["q1 holds 3"], detail: "")
        #expect(Self.report([good]).passed)
        #expect(
            Self.report([good]).summary.hasPrefix(
                "soak: PASSED after 75 s (planned 60 s), 8 clients: 10 new leases, 5 replays; faults: 1x storage SIGKILLed"
            ))
        #expect(!Self.report([good, bad]).passed)
        #expect(Self.report([good, bad]).summary.contains("failed: quotas exact at 70 s"))
        #expect(!Self.report([good], problems: ["vendor-0 did not restart"]).passed)
        let decoded = try SoakReport.decode(Self.report([good, bad]).json())
        #expect(!decoded.passed)
        #expect(decoded.checkpoints.first?.checks.map(\.name) == ["no acknowledged lease lost", "quotas exact"])
    }
}
