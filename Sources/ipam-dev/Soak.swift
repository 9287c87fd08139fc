import ArgumentParser
import Foundation
import Soak

/// `ipam-dev soak`: the chaos soak (docs/Scaling.md, "The chaos soak"). Two Vendors, two Managers with the webhook
/// dispatcher, `ipam-mcp`, the local Resource Graph and the table emulator behind a fault proxy, under a mix of
/// leases, replays, releases, host addresses, reservations and pooled leases with a quota, while a schedule of
/// faults runs; at every checkpoint and at the end the invariant checker and the soak's own checks.
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Chaos soak: the whole system under load and faults; checks that nothing acknowledged is lost.",
        discussion: """
            Starts table-emulator (durable, in --data-dir) behind a fault proxy, two vendors, two managers (webhooks \
            to a receiver in this process), arg-emulator and ipam-mcp from --bin-dir, runs the clients and the fault \
            schedule (412 storms, ServerBusy, errors and timeouts after the write, storage, a Vendor and a Manager \
            SIGKILLed and restarted, Resource Graph outages, truncation and throttling), checks at every checkpoint \
            and at the end, samples each process's memory, writes the JSON report to --report and prints one \
            summary line. Exit status 1 when any check failed.
            """)

    @Option(help: "Length of the run in minutes (fractions allowed).") var minutes: Double?
    @Option(help: "Length of the run in seconds (instead of --minutes).") var seconds: Double?
    @Option(help: "Where the JSON report goes.") var report = "soak-report.json"
    @Option(help: "Lease clients (besides two quota clients, an operator's client and ipam-mcp).") var clients = 4
    @Option(help: "Seconds between checkpoints (default: a sixth of the run, 15 to 300).") var checkEvery: Double?
    @Option(help: "Seconds between memory samples (default: 60; a twelfth of a shorter run, at least 5).")
    var memoryEvery: Double?
    @Option(help: "Pause of each client between its operations, in milliseconds.") var pauseMs = 20
    @Option(
        help:
            "Growth of a service's resident memory after warm-up (MiB) that fails the run (the table emulator and the soak itself hold data: their growth is stated, not held to it)."
    )
    var maxMemoryGrowth = 64.0
    @Option(help: "Directory of the ipam executables (default: this executable's).") var binDir: String?
    @Option(
        help:
            "Directory for the storage's data and the processes' logs (default: a new temporary one, removed after a run that passed)."
    )
    var dataDir: String?

    var length: Double { seconds ?? (minutes ?? 0) * 60 }

    func validate() throws {
        guard (minutes == nil) != (seconds == nil) else { throw ValidationError("give --minutes or --seconds") }
        guard length >= 20 else { throw ValidationError("a soak runs at least 20 seconds") }
        guard clients >= 1, clients <= 64 else { throw ValidationError("--clients must be 1 to 64") }
        guard pauseMs >= 0 else { throw ValidationError("--pause-ms must not be negative") }
        if let checkEvery, checkEvery < 5 { throw ValidationError("--check-every must be at least 5 seconds") }
        if let memoryEvery, memoryEvery < 1 { throw ValidationError("--memory-every must be at least 1 second") }
    }

    func run() async throws {
        // Writing to a child that was just killed must fail as an error, not end the soak.
        signal(SIGPIPE, SIG_IGN)
        let bin =
            binDir
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let temporary = dataDir == nil
        let directory = dataDir ?? (NSTemporaryDirectory() + "ipam-soak-" + UUID().uuidString.prefix(8).lowercased())
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let settings = SoakRun<ContinuousClock>.Settings(
            length: .milliseconds(Int64(length * 1000)),
            checkEvery: .milliseconds(Int64((checkEvery ?? min(300, max(15, length / 6))) * 1000)),
            memoryEvery: .milliseconds(Int64((memoryEvery ?? min(60, max(5, length / 12))) * 1000)),
            clients: clients, pause: .milliseconds(pauseMs), maxMemoryGrowthMiB: maxMemoryGrowth, bin: bin,
            directory: directory)
        let soak = SoakRun(settings: settings, clock: ContinuousClock())
        let result = await soak.run()
        try result.json().write(to: URL(fileURLWithPath: report))
        print(result.summary)
        print("report: \(report); data and logs: \(directory)\(temporary && result.passed ? " (removed)" : "")")
        fflush(nil)
        if temporary && result.passed { try? FileManager.default.removeItem(atPath: directory) }
        if !result.passed { throw ExitCode(1) }
    }
}
