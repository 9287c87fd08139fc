import AWSClient
import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs

#if canImport(Glibc)
    import Glibc
#endif

/// `ipam-dev bench manager-aws`: the Manager over AWS — VPCs discovered per second from `moto_server`, and what
/// a Sync of an unchanged world of many VPCs in several regions costs (it should write nothing).
struct ManagerAWSBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager-aws",
        abstract: "AWS discovery rate from moto_server, then first and unchanged Syncs of VPCs in several regions.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "VPCs in all (spread over the regions).") var vpcs = 10_000
    @Option(help: "Regions of the one account (at most 8).") var regions = 4
    @Option(help: "Of the VPCs, those inside the scopes' supernets (recorded occupied by the first Sync).")
    var overlapping = 1_000
    @Option(help: "moto_server to start (default: MOTO_SERVER, else .venv/bin/moto_server, else the PATH).")
    var motoServer: String?

    static let account = "123456789012" // moto's own account: the owner of every VPC it creates
    static let regionNames = [
        "us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "eu-central-1", "us-east-2", "ca-central-1",
        "sa-east-1",
    ]

    func validate() throws {
        guard (1...Self.regionNames.count).contains(regions) else {
            throw ValidationError("--regions must be 1 to \(Self.regionNames.count)")
        }
        guard vpcs >= 1, (0...vpcs).contains(overlapping), overlapping <= regions * 8_192 else {
            throw ValidationError("--vpcs must be at least 1 and --overlapping between 0 and --vpcs")
        }
    }

    func run() async throws {
        let moto = try MotoProcess.start(binary: motoServer)
        defer { moto.stop() }
        let opened = try storage.opened()
        let counts = ManagerBench.Counts()
        let service = try opened.service(onAttempt: { counts.observe($0) })
        let tableName = "benchaws" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        try await service.createTable(tableName)
        let names = Array(Self.regionNames.prefix(regions))
        // Region i owns 10.(32 i).0.0/11: an overlapping VPC is a /24 in it, the others /27s of 100.64.0.0/10.
        let entries = names.enumerated().map { index, region in
            #"{"region":"\#(region)","supernets":["10.\#(index * 32).0.0/11"]}"#
        }
        let environment: [String: String] = [
            "AzureWebJobsStorage": "x", "IPAM_TABLE_NAME": tableName,
            "SUPERNETS_CONFIG":
                #"[{"cloud":"aws","accountId":"\#(Self.account)","regions":[\#(entries.joined(separator: ","))]}]"#,
            "SCOPE_CONFIG_MANIFEST":
                #"{"defaultScope":{"cloud":"aws","accountId":"\#(Self.account)","region":"\#(names[0])"}}"#,
        ]
        let configuration = try IPAMConfiguration.load(environment: environment)
        let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyId: "bench", secretAccessKey: "bench"))
        let clients = names.map { region in
            EC2Client(
                account: Self.account, region: region, endpoint: moto.url, credentials: credentials,
                transport: opened.transport)
        }

        print("creating \(vpcs) VPCs in \(regions) regions of moto_server (\(overlapping) inside the scopes) ...")
        let started = ContinuousClock.now
        try await createVPCs(clients: clients)
        print(String(format: "created in %.1f s", (ContinuousClock.now - started).seconds))

        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let discovery = EC2Discovery(clients: clients, logger: quiet)
        let scopes = Array(configuration.scopes.keys)
        print(String(repeating: "-", count: 90))
        var rates: [Double] = []
        for _ in 0..<3 {
            let start = ContinuousClock.now
            let listing = await discovery.discover(scopes)
            let seconds = (ContinuousClock.now - start).seconds
            // moto also has each region's default VPC (172.31.0.0/16).
            let seen = listing.networks.count
            guard listing.isComplete, seen >= vpcs else {
                throw ValidationError("discovery saw \(seen) of \(vpcs) VPCs: \(listing.problems)")
            }
            rates.append(Double(seen) / seconds)
            print(
                String(
                    format: "discovery: %d VPCs in %d regions, %d pages, %.2f s: %.0f VPCs/s", seen, regions,
                    listing.pages, seconds, Double(seen) / seconds))
        }
        let manager = ManagerRun(
            configuration: configuration, settings: ManagerSettings(),
            inventory: Inventory(table: service.table(tableName), actor: "bench"), discovery: [discovery],
            logger: quiet)
        _ = counts.take()
        func measure(_ label: String) async throws -> (seconds: Double, writes: Int) {
            let start = ContinuousClock.now
            let report = try await manager.run()
            let seconds = (ContinuousClock.now - start).seconds
            let (reads, writes) = counts.take()
            print(
                String(
                    format: "%-34@ %7.2f s  store reads %6d  store writes (transactions) %6d  complete %@  actions %@",
                    label as NSString, seconds, reads, writes, "\(report.complete)" as NSString,
                    "\(report.actions)" as NSString))
            return (seconds, writes)
        }
        let first = try await measure("first Sync")
        // The second run stamps LastSeenAt once on the rows the first one created; from then on nothing changes.
        let second = try await measure("second Sync, nothing changed")
        let third = try await measure("third Sync, nothing changed")
        print(String(repeating: "-", count: 90))
        print(
            String(
                format:
                    "manager (AWS): discovery %.0f VPCs/s (best of 3, %d VPCs, %d regions); first sync %.1f s / %d writes; unchanged syncs %.1f s / %d writes, %.1f s / %d writes",
                rates.max() ?? 0, vpcs, regions, first.seconds, first.writes, second.seconds, second.writes,
                third.seconds, third.writes))
        try await service.deleteTable(tableName)
    }

    /// Creates the VPCs, 16 at a time: the overlapping ones as /24s of their region's supernet, the rest as /27s
    /// of 100.64.0.0/10 (outside every scope), each region its share.
    func createVPCs(clients: [EC2Client]) async throws {
        let total = vpcs
        let inside = overlapping
        let regionCount = clients.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    for index in stride(from: worker, to: total, by: 16) {
                        let region = index % regionCount
                        let ordinal = index / regionCount
                        let cidr =
                            index < inside
                            ? "10.\(region * 32 + ordinal / 256).\(ordinal % 256).0/24"
                            : "100.\(64 + index / 2048).\((index / 8) % 256).\((index % 8) * 32)/27"
                        do throws(AWSFailure) {
                            _ = try await clients[region].call([("Action", "CreateVpc"), ("CidrBlock", cidr)])
                        } catch {
                            throw ValidationError("CreateVpc \(cidr) in \(clients[region].region): \(error)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// A `moto_server` child process on a free loopback port.
struct MotoProcess {
    let url: String
    let process: Process
    /// Its log file (removed when it stops).
    let log: URL

    /// Starts `binary` (or the one MOTO_SERVER, `.venv/bin` or the PATH names) and waits until it answers.
    static func start(binary: String?) throws -> MotoProcess {
        let environment = ProcessInfo.processInfo.environment
        let candidates =
            [binary, environment["MOTO_SERVER"], FileManager.default.currentDirectoryPath + "/.venv/bin/moto_server"]
            .compactMap { $0 } + (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/moto_server" }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError(
                "moto_server is missing: run scripts/setup-python (requirements.txt has moto[server])")
        }
        // Its log goes to a file (a pipe nobody drains would stop it once full); Flask writes
        // "Running on http://127.0.0.1:PORT" there once it listens.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-H", "127.0.0.1", "-p", "0"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        var seen = ""
        for _ in 0..<300 where process.isRunning {
            seen = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = seen.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                return MotoProcess(url: String(seen[range]), process: process, log: log)
            }
            usleep(100_000)
        }
        throw ValidationError("moto_server did not start: \(seen.suffix(500))")
    }

    /// Stops it: SIGTERM, then SIGKILL (its threads can outlive the SIGTERM handler).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<30 where process.isRunning { usleep(100_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: log)
    }
}
