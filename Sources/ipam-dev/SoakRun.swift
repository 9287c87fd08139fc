import AzureCore
import AzureTables
import FaultProxy
import Foundation
import HTTPTransport
import Soak
import StrictJSON
import Synchronization
import TableEmulator

/// One soak: starts the processes, runs the clients, the fault schedule, the memory sampler and the checkpoints
/// on `clock` (monotonic: every time of the schedule is an offset from its start), then the final checks.
struct SoakRun<C: Clock<Duration>>: Sendable {
    struct Settings: Sendable {
        var length: Duration
        var checkEvery: Duration
        var memoryEvery: Duration
        var clients: Int
        var pause: Duration
        var maxMemoryGrowthMiB: Double
        var bin: String
        var directory: String
    }

    let settings: Settings
    let clock: C

    static var subscription: String { "11111111-1111-1111-1111-111111111111" }
    static var scope: String { subscription + "_eastus" }
    static var pool: String { "soak-pool" }
    static var quotaLimit: Int { 4 }
    /// The dispatchers' settle time: an event is delivered once it is this old. The default, 30 s: longer than a
    /// Vendor's request deadline (20 s), within which a throttled transaction may still commit its event (keyed at
    /// the time it was built); a shorter one lets a cursor pass an event that commits late, never to deliver it.
    static var settleSeconds: Double { 30 }
    /// The dispatchers' hold on a cursor: longer than a delivery's timeout (10 s) and a cursor write, so a live
    /// holder is not taken over (each takeover sends the event in flight again), shorter than the default (60 s)
    /// so that a killed holder's cursor is taken over within the run.
    static var holdSeconds: Double { 20 }
    /// What a Manager may hold for each row of the scope's partition, beyond the flat limit: a run reads and plans
    /// over every network row of the scope at once, so its memory follows the partition's size. A network row is
    /// one of the four or more rows a lease adds; `ipam-dev bench manager-memory` measures about 2.2 KiB of peak
    /// resident memory per leased network row (docs/Performance.md, "Memory"), so 1 KiB per row of the partition.
    static var managerKiBPerRow: Double { 1 }
    /// What a Vendor's memory may grow by for each row the partition gains: it keeps every network row's prefix of
    /// its scope (`OccupiedSpace`, an array that doubles as it grows), one network row among the four or more rows a
    /// lease adds. Measured with the soak's session cache (docs/Performance.md, "Memory"): about 0.05 KiB a lease
    /// and a step of 5 MiB when the array doubles past 65,536; 0.1 KiB a row is about 0.4 KiB a lease.
    static var vendorKiBPerRow: Double { 0.1 }
    /// The Vendors' session cache (`VENDOR_SESSION_CACHE_ENTRIES`): small, so that it is full within the warm-up
    /// and replays of sessions it no longer holds read storage under the faults, and so that growth past it is
    /// the check's, not a cache still filling (the default, 100,000 sessions, holds about 100 MiB when full).
    static var vendorSessionCacheEntries: Int { 2_000 }
    /// What a full session cache of the soak's Vendors may hold: about 1 KiB a session (docs/Performance.md,
    /// "Memory"), one and a half allowed.
    static var vendorSessionCacheMiB: Double { Double(vendorSessionCacheEntries) * 1.5 / 1024 }

    /// What the run keeps while it goes, for the report.
    final class Journal: Sendable {
        let started: Date
        private let state = Mutex<(faults: [SoakReport.FaultRun], problems: [String], memory: MemorySamples)>(
            ([], [], MemorySamples()))
        init(started: Date) { self.started = started }
        func fault(_ run: SoakReport.FaultRun) { state.withLock { $0.faults.append(run) } }
        func problem(_ text: String) { state.withLock { $0.problems.append(text) } }
        func sample(_ process: String, pid: Int32, rssKiB: Int, at: Double) {
            state.withLock { $0.memory.record(process, pid: pid, rssKiB: rssKiB, at: at) }
        }
        func rows(_ rows: Int, at: Double) { state.withLock { $0.memory.recordRows(rows, at: at) } }
        var faults: [SoakReport.FaultRun] { state.withLock { $0.faults } }
        var problems: [String] { state.withLock { $0.problems } }
        var memory: MemorySamples { state.withLock { $0.memory } }
    }

    /// Everything started, for the phases of the run.
    struct Stack: Sendable {
        let storage: SoakProcess
        let vendors: [SoakProcess]
        let managers: [SoakProcess]
        let graph: SoakProcess
        let mcp: SoakMCP
        /// In front of storage for the Vendors and Managers: the faults go here.
        let proxy: FaultProxy
        /// In front of storage for the soak's own reads: never any fault (and it follows a restarted storage too).
        let reader: FaultProxy
        let table: TableClient
        let sink: SoakWebhookSink
        let endpoints: SoakEndpoints
        let keys: [String: String]

        var processes: [SoakProcess] { [storage] + vendors + managers + [graph] }
    }

    func elapsed(since start: C.Instant) -> Double { Self.seconds(start.duration(to: clock.now)) }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs the soak; the report (a failure to start is a report that failed, naming why).
    func run() async -> SoakReport {
        let journal = Journal(started: Date())
        let start = clock.now
        let ledger = SoakLedger()
        let counters = SoakCounters()
        let gate = SoakGate()
        var checkpoints: [SoakReport.Checkpoint] = []
        let stack: Stack
        do { stack = try await startStack() } catch {
            journal.problem("the stack did not start: \(error)")
            return report(journal, start, checkpoints, counters, nil)
        }
        defer {
            stack.mcp.stop()
            for process in stack.processes.reversed() { process.stop() }
        }
        // The dispatchers' first pass starts each webhook's cursor (events from then on are delivered): the
        // clients start after it, and every event from their start on is due.
        try? await clock.sleep(for: .seconds(4))
        let since = Date()
        let quota = SoakChecks.Quota(
            pool: Self.pool, limit: Self.quotaLimit,
            holders: ["quota-1": "soak-quota-1-", "quota-2": "soak-quota-2-"])
        let stopping = SoakStop()
        let transport = CurlTransport()
        var clients: [SoakClient] = []
        for index in 0..<settings.clients {
            clients.append(client("soak-c\(index)", .leases, index, stack, ledger, counters, gate, transport))
        }
        clients.append(client("quota-1", .quota, 0, stack, ledger, counters, gate, transport))
        clients.append(client("quota-2", .quota, 1, stack, ledger, counters, gate, transport))
        clients.append(client("soak-admin", .admin, 0, stack, ledger, counters, gate, transport))
        let end = start.advanced(by: settings.length)
        await withTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { await client.run { stopping.isSet } }
            }
            group.addTask { await self.exerciseMCP(stack, ledger, counters, gate, until: { stopping.isSet }) }
            group.addTask { await self.sampleMemory(stack, journal, start, until: { stopping.isSet }) }
            group.addTask { await self.runFaults(stack, journal, gate, start, end) }
            var next = start.advanced(by: settings.checkEvery)
            while next < end.advanced(by: .zero - settings.checkEvery / 2) {
                try? await clock.sleep(until: next, tolerance: nil)
                let point = await checkpoint(
                    stack, ledger, gate, journal, start, since: since, quota: quota, final: false)
                Self.progress(point)
                checkpoints.append(point)
                next = next.advanced(by: settings.checkEvery)
            }
            try? await clock.sleep(until: end, tolerance: nil)
            stopping.set()
            await group.waitForAll()
        }
        stack.proxy.faults = FaultProxy.Faults()
        let stopped = Date()
        // Everything the clients caused is due at the receiver once the dispatchers' settle time has passed.
        await mcpRoundTrip(stack, ledger, counters, round: 0)
        let due = stopped.addingTimeInterval(1)
        // The dispatchers deliver an event once it is older than their settle time (and a killed holder's cursor
        // once its hold ran out): wait that long first, then check (a whole table read costs seconds), and again a
        // few times while something is still missing.
        try? await clock.sleep(for: .seconds(max(Self.settleSeconds, Self.holdSeconds) + 3))
        var final = await checkpoint(
            stack, ledger, gate, journal, start, since: since, quota: quota, final: true, until: due)
        // Only an event not delivered yet can change by waiting; any other failure is final.
        func waiting(_ point: SoakReport.Checkpoint) -> Bool {
            let failed = point.checks.filter { !$0.passed }
            return failed.count == 1 && failed[0].name == "every webhook event delivered"
                && failed[0].problems.allSatisfy { $0.hasSuffix("never delivered") }
        }
        for _ in 0..<5 where waiting(final) {
            try? await clock.sleep(for: .seconds(5))
            final = await checkpoint(
                stack, ledger, gate, journal, start, since: since, quota: quota, final: true, until: due)
        }
        Self.progress(final)
        checkpoints.append(final)
        return report(journal, start, checkpoints, counters, stack)
    }

    func client(
        _ name: String, _ role: SoakClient.Role, _ index: Int, _ stack: Stack, _ ledger: SoakLedger,
        _ counters: SoakCounters, _ gate: SoakGate, _ transport: CurlTransport
    ) -> SoakClient {
        SoakClient(
            name: name, key: stack.keys[name] ?? "", role: role, index: index, ledger: ledger, counters: counters,
            endpoints: stack.endpoints, gate: gate, transport: transport, pool: Self.pool, quotaLimit: Self.quotaLimit,
            subscription: Self.subscription, pause: settings.pause)
    }

    // MARK: Starting

    /// Starts everything; on a failure stops what it had started (no child outlives a soak that could not start).
    func startStack() async throws -> Stack {
        var started: [SoakProcess] = []
        do { return try await startStack(&started) } catch {
            for process in started.reversed() { process.kill() }
            throw error
        }
    }

    func startStack(_ started: inout [SoakProcess]) async throws -> Stack {
        let logs = settings.directory
        let storage = SoakProcess(
            name: "table-emulator", executable: settings.bin + "/table-emulator",
            arguments: ["--port", "0", "--location", settings.directory + "/table", "--log-level", "error"],
            environment: [:], logDirectory: logs)
        started.append(storage)
        let storagePort = try await storage.start()
        let upstream = "http://127.0.0.1:\(storagePort)"
        let (proxy, proxied, _) = try await FaultProxy.inFront(of: Self.connection(upstream))
        let (reader, direct, _) = try await FaultProxy.inFront(of: Self.connection(upstream))
        let patient = RetryPolicy(
            maxAttempts: 100, baseDelay: .milliseconds(200), maxDelay: .seconds(2), deadline: .seconds(300))
        let table = try TableServiceClient(connectionString: direct, transport: CurlTransport(), retryPolicy: patient)
            .table("soak")
        let secret = "soak-webhook-secret-" + Self.randomToken()
        let sink = SoakWebhookSink(secret: secret)
        let sinkPort = try await sink.start()
        let graph = SoakProcess(
            name: "arg-emulator", executable: settings.bin + "/arg-emulator", arguments: ["--port", "0"],
            environment: [:], logDirectory: logs)
        started.append(graph)
        let graphPort = try await graph.start()
        var keys: [String: String] = [:]
        let names = (0..<settings.clients).map { "soak-c\($0)" } + ["quota-1", "quota-2", "soak-mcp"]
        for name in names + ["soak-admin"] { keys[name] = Self.randomToken() }
        let environment = Self.environment(
            storage: proxied, keys: keys, leaseNames: names, graph: "http://127.0.0.1:\(graphPort)",
            webhook: "http://127.0.0.1:\(sinkPort)/hook", secret: secret)
        var vendors: [SoakProcess] = []
        var urls: [String] = []
        for index in 0..<2 {
            let vendor = SoakProcess(
                name: "vendor-\(index)", executable: settings.bin + "/vendor",
                arguments: ["serve", "--port", "0", "--log-level", "error"], environment: environment,
                logDirectory: logs)
            started.append(vendor)
            urls.append("http://127.0.0.1:\(try await vendor.start())")
            vendors.append(vendor)
        }
        var managers: [SoakProcess] = []
        for index in 0..<2 {
            let manager = SoakProcess(
                name: "manager-\(index)", executable: settings.bin + "/manager",
                arguments: ["run", "--metrics-port", "0", "--log-level", "error"], environment: environment,
                readyPrefix: "metrics port: ", logDirectory: logs)
            started.append(manager)
            try await manager.start()
            managers.append(manager)
        }
        // ipam-mcp talks to vendor-1, killed in odd rounds: its tool calls fail while it is down, as an agent's would.
        let mcp = try SoakMCP(
            executable: settings.bin + "/ipam-mcp", vendorURL: urls[1], key: keys["soak-mcp"] ?? "",
            logPath: logs + "/ipam-mcp.log")
        do {
            try await mcp.initialize()
            guard try await mcp.tools().contains("get_new_network") else {
                throw SoakProcess.Failure(description: "ipam-mcp lists no get_new_network tool")
            }
        } catch {
            mcp.stop()
            throw error
        }
        return Stack(
            storage: storage, vendors: vendors, managers: managers, graph: graph, mcp: mcp, proxy: proxy,
            reader: reader, table: table, sink: sink,
            endpoints: SoakEndpoints(vendors: urls, graph: "http://127.0.0.1:\(graphPort)"), keys: keys)
    }

    static func connection(_ upstream: String) -> StorageConnectionString {
        StorageConnectionString(
            accountName: StorageConnectionString.developmentAccountName,
            accountKey: StorageConnectionString.developmentAccountKey,
            tableEndpoint: upstream + "/" + StorageConnectionString.developmentAccountName)
    }

    static func randomToken() -> String {
        (0..<2).map { _ in UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }.joined()
    }

    /// The Vendors' and Managers' environment: one scope (10.0.0.0/8) with a pool under a quota, the clients'
    /// keys, the local Resource Graph, the webhook to this process; times short enough for a soak of minutes.
    static func environment(
        storage: StorageConnectionString, keys: [String: String], leaseNames: [String], graph: String,
        webhook: String, secret: String
    ) -> [String: String] {
        let scope = #""subscriptionId":"\#(subscription)","region":"eastus""#
        return [
            "AzureWebJobsStorage":
                "DefaultEndpointsProtocol=http;AccountName=\(storage.accountName);AccountKey=\(storage.accountKey ?? "");TableEndpoint=\(storage.tableEndpoint);",
            "IPAM_TABLE_NAME": "soak", "AUDIT_SALT": "soak-audit-salt-" + randomToken(),
            "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "28", "CIDR_SIZE_DEFAULT": "26", "LEASE_DURATION_HOURS": "4",
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["10.0.0.0/8"]}]}]"#,
            "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{\#(scope)},"scopes":[{\#(scope),"stock":{"26":8,"28":8}}]}"#,
            "POOLS_CONFIG":
                #"[{"name":"\#(pool)",\#(scope),"cidr":"10.255.0.0/16","quota":{"maxLeasesPerRequester":\#(quotaLimit)},"stock":{"28":4}}]"#,
            "VENDOR_API_KEYS": leaseNames.map { "\($0)=\(keys[$0] ?? "")" }.joined(separator: ","),
            "VENDOR_ADMIN_KEYS": "soak-admin=\(keys["soak-admin"] ?? "")",
            "RESOURCE_GRAPH_ENDPOINT": graph, "RESOURCE_GRAPH_TOKEN": "local",
            "MANAGER_TIMER_SCHEDULE": "*/5 * * * * *", "MANAGER_LEASE_SECONDS": "10",
            "WEBHOOKS_CONFIG": #"[{"name":"soak","url":"\#(webhook)","secret":"\#(secret)","events":["*"]}]"#,
            "WEBHOOK_POLL_SECONDS": "1", "WEBHOOK_SETTLE_SECONDS": "\(Int(settleSeconds))",
            "WEBHOOK_HOLD_SECONDS": "\(Int(holdSeconds))", "WEBHOOK_MAX_ATTEMPTS": "100",
            "VENDOR_SESSION_CACHE_ENTRIES": "\(vendorSessionCacheEntries)",
        ]
    }

    // MARK: Faults

    /// Runs the schedule until `end`: each step at its offset from `start`.
    func runFaults(_ stack: Stack, _ journal: Journal, _ gate: SoakGate, _ start: C.Instant, _ end: C.Instant) async {
        let schedule = SoakSchedule(length: settings.length)
        await withTaskGroup(of: Void.self) { windows in
            for step in schedule.steps {
                try? await clock.sleep(until: start.advanced(by: step.at), tolerance: nil)
                let at = elapsed(since: start)
                let note = await perform(step, stack, gate, windows: &windows)
                journal.fault(
                    SoakReport.FaultRun(
                        at: at, fault: step.fault.rawValue, seconds: Self.seconds(step.lasting), note: note))
                if note.hasPrefix("FAILED") { journal.problem("\(step.fault.rawValue) at \(Int(at)) s: \(note)") }
            }
        }
    }

    func perform(
        _ step: SoakSchedule.Step, _ stack: Stack, _ gate: SoakGate,
        windows: inout TaskGroup<Void>
    ) async -> String {
        var faults = FaultProxy.Faults()
        switch step.fault {
        case .preconditionStorm:
            faults.preconditionStorm = 0.3
            return window(faults, step, stack, &windows, "30 % of transactions answered 412")
        case .serverBusy:
            faults.serverBusy = 0.25
            return window(faults, step, stack, &windows, "25 % of storage requests answered 503 ServerBusy")
        case .unknownOutcomes:
            faults.throttle = 0.05
            faults.errorAfterForward = 0.08
            faults.timeoutAfterForward = 0.03
            faults.hold = .seconds(3)
            return window(
                faults, step, stack, &windows,
                "5 % throttled, 8 % of writes answered 500 and 3 % held 3 s after they were applied")
        case .killStorage:
            return await kill(stack.storage, step, gate) { port in
                stack.proxy.upstream = "http://127.0.0.1:\(port)"
                stack.reader.upstream = "http://127.0.0.1:\(port)"
            }
        case .killVendor:
            return await kill(stack.vendors[step.target], step, gate) { port in
                stack.endpoints.setVendor(step.target, "http://127.0.0.1:\(port)")
            }
        case .killManager:
            return await kill(stack.managers[step.target], step, gate) { _ in }
        case .graphOutage:
            return await graphFault(stack, "error", count: 8, "8 queries answered 500")
        case .graphTruncation:
            return await graphFault(stack, "truncate", count: 4, "4 queries answered truncated")
        case .graphThrottling:
            return await graphFault(stack, "throttle", count: 6, "6 queries answered 429")
        }
    }

    /// Sets the proxy's faults for the step's window; a task of `windows` clears them after it.
    func window(
        _ faults: FaultProxy.Faults, _ step: SoakSchedule.Step, _ stack: Stack, _ windows: inout TaskGroup<Void>,
        _ note: String
    ) -> String {
        stack.proxy.faults = faults
        let clock = self.clock
        windows.addTask {
            try? await clock.sleep(for: step.lasting)
            if stack.proxy.faults == faults { stack.proxy.faults = FaultProxy.Faults() }
        }
        return note + " for \(Int(Self.seconds(step.lasting).rounded())) s"
    }

    /// SIGKILL, down for the step's length, started again; `moved` gets its port when it listens elsewhere.
    func kill(
        _ process: SoakProcess, _ step: SoakSchedule.Step, _ gate: SoakGate, moved: (Int) -> Void
    ) async -> String {
        await gate.enter()
        let pid = process.pid.map { "\($0)" } ?? "?"
        let port = process.port
        process.kill()
        try? await clock.sleep(for: step.lasting)
        let note: String
        do {
            let again = try await process.restart()
            if again != port { moved(again) }
            note = "\(process.name) (pid \(pid)) SIGKILLed, restarted as pid \(process.pid.map { "\($0)" } ?? "?")"
        } catch {
            note = "FAILED: \(process.name) did not restart: \(error)"
        }
        await gate.leave()
        return note
    }

    func graphFault(_ stack: Stack, _ mode: String, count: Int, _ note: String) async -> String {
        let response = try? await CurlTransport().execute(
            TransportRequest(
                method: "POST", url: stack.endpoints.graph + "/admin/faults",
                headers: ["Content-Type": "application/json"],
                body: Array(#"{"mode":"\#(mode)","count":\#(count)}"#.utf8), timeout: .seconds(10)))
        guard let response, (200..<300).contains(response.status) else {
            return "FAILED: arg-emulator refused the fault (\(response.map { "\($0.status)" } ?? "no answer"))"
        }
        return note
    }

    // MARK: Memory

    func sampleMemory(_ stack: Stack, _ journal: Journal, _ start: C.Instant, until stop: () -> Bool) async {
        var next = start
        while !stop() {
            let at = elapsed(since: start)
            var pids: [(String, Int32?)] = stack.processes.map { ($0.name, $0.pid) }
            pids.append(("ipam-mcp", stack.mcp.process.isRunning ? stack.mcp.process.processIdentifier : nil))
            pids.append(("ipam-dev soak", getpid()))
            for (name, pid) in pids {
                guard let pid, let rss = MemorySamples.residentKiB(pid: pid) else { continue }
                journal.sample(name, pid: pid, rssKiB: rss, at: at)
            }
            next = next.advanced(by: settings.memoryEvery)
            // In short steps, to notice the end of the run.
            while !stop() && clock.now < next { try? await clock.sleep(for: .milliseconds(500)) }
        }
    }

    // MARK: Checks

    /// Reads the whole table until two reads in a row agree (the Managers may be writing; the clients wait), at
    /// most `reads` times; whether two agreed.
    func readTable(_ stack: Stack, reads: Int) async throws -> (rows: [TableEntity], settled: Bool) {
        var previous: [String]? = nil
        var rows: [TableEntity] = []
        for _ in 0..<reads {
            rows = try await stack.table.queryAll()
            let signature = rows.map { "\($0.partitionKey)|\($0.rowKey)|\($0.etag ?? "")" }.sorted()
            if signature == previous { return (rows, true) }
            previous = signature
        }
        return (rows, false)
    }

    func checkpoint(
        _ stack: Stack, _ ledger: SoakLedger, _ gate: SoakGate, _ journal: Journal, _ start: C.Instant,
        since: Date, quota: SoakChecks.Quota, final: Bool, until: Date? = nil
    ) async -> SoakReport.Checkpoint {
        await gate.pause()
        let at = elapsed(since: start)
        let before = ledger.snapshot
        let rows: [TableEntity]
        let settled: Bool
        do { (rows, settled) = try await readTable(stack, reads: final ? 10 : 6) } catch {
            await gate.resume()
            return SoakReport.Checkpoint(
                at: at, final: final,
                checks: [
                    SoakChecks.Result(name: "table read", problems: ["\(error)"], detail: "the table could not be read")
                ])
        }
        let after = ledger.snapshot
        journal.rows(rows.filter { $0.partitionKey == Self.scope }.count, at: at)
        // A violation at a checkpoint: the rows it names, read once more before the clients go on (what changed
        // between the two reads tells a write caught half-way from the table's own state).
        var diagnosis: [String] = []
        if settled, !final {
            let problems = SoakChecks.invariants(rows, scopes: [Self.scope]).problems
            if !problems.isEmpty, let again = try? await readTable(stack, reads: 6) {
                let still = SoakChecks.invariants(again.rows, scopes: [Self.scope]).problems
                diagnosis =
                    ["on a second read \(still.isEmpty ? "gone" : "\(still.count) still there")"]
                    + SoakChecks.diagnose(problems, first: rows, second: again.rows)
            }
        }
        await gate.resume()
        let due = until ?? Date().addingTimeInterval(-Self.settleSeconds - 10)
        var checks = SoakChecks.run(
            SoakChecks.Inputs(
                entities: rows, scopes: [Self.scope], before: before, after: after, quota: quota, exact: final,
                deliveries: SoakChecks.Deliveries(since: since, until: due, counts: stack.sink.counts, final: final)))
        if !diagnosis.isEmpty, let index = checks.firstIndex(where: { $0.name == "invariant checker" }) {
            checks[index].detail += "; " + diagnosis.joined(separator: "; ")
        }
        if !settled, !final, let index = checks.firstIndex(where: { $0.name == "invariant checker" }) {
            // No two reads agreed: rows of different moments, which no invariant need hold together.
            checks[index] = SoakChecks.Result(
                name: "invariant checker", problems: [],
                detail: "the table kept changing under 6 reads (the Managers writing): not checked at this checkpoint")
        }
        checks.append(
            SoakChecks.Result(
                name: "webhook signatures",
                problems: stack.sink.refused > 0 ? ["\(stack.sink.refused) deliveries refused"] : [],
                detail: "every delivery carried a valid signature"))
        if final {
            let warmUp = Self.seconds(settings.length) / 6
            checks.append(
                SoakChecks.memory(
                    journal.memory.growth(afterWarmUp: warmUp),
                    limits: SoakChecks.MemoryLimits(
                        flatMiB: settings.maxMemoryGrowthMiB, managerPerRowKiB: Self.managerKiBPerRow,
                        vendorPerRowKiB: Self.vendorKiBPerRow, vendorSessionCacheMiB: Self.vendorSessionCacheMiB),
                    warmUpSeconds: warmUp))
        }
        return SoakReport.Checkpoint(at: at, final: final, checks: checks)
    }

    /// ipam-mcp as an agent drives it, all through the run at a low rate (a round every 2 s, under the gate like
    /// the clients): a new lease, the same call again, the lease looked up, and every other round the lease of the
    /// round before released through `release_network`.
    func exerciseMCP(
        _ stack: Stack, _ ledger: SoakLedger, _ counters: SoakCounters, _ gate: SoakGate,
        until stop: @escaping @Sendable () -> Bool
    ) async {
        var round = 0
        var previous: String? = nil
        while !stop() {
            round += 1
            await gate.enter()
            let leased = await mcpRoundTrip(stack, ledger, counters, round: round)
            if round % 2 == 0, let previous {
                counters.operation("MCP tool calls")
                let answer = try? await stack.mcp.call("release_network", arguments: #"{"leaseId":"\#(previous)"}"#)
                if let state = answer?["state"]?.stringValue, state != "leased", state != "anchored" {
                    ledger.released(leaseId: previous)
                }
            }
            await gate.leave()
            previous = round % 2 == 1 ? leased : nil
            for _ in 0..<4 where !stop() { try? await clock.sleep(for: .milliseconds(500)) }
        }
    }

    /// A few MCP tool calls: a new lease, the same call again (a replay: the same lease), the lease looked up.
    /// Returns the lease's id when ipam-mcp acknowledged it.
    @discardableResult
    func mcpRoundTrip(_ stack: Stack, _ ledger: SoakLedger, _ counters: SoakCounters, round: Int) async -> String? {
        let session = "soak-mcp-\(round)"
        let arguments = #"{"sessionId":"\#(session)","prefixLength":28}"#
        var first: (String, String)? = nil
        for _ in 0..<2 {
            counters.operation("MCP tool calls")
            guard let answer = try? await stack.mcp.call("get_new_network", arguments: arguments),
                let leaseId = answer["leaseId"]?.stringValue, let cidr = answer["cidr"]?.stringValue
            else { continue }
            ledger.acknowledged(SoakLedger.Lease(leaseId: leaseId, sessionId: session, cidr: cidr, holder: "soak-mcp"))
            if let first, first != (leaseId, cidr) {
                ledger.contradiction(
                    "ipam-mcp answered \(session) with \(leaseId) (\(cidr)), first \(first.0) (\(first.1))")
            }
            first = first ?? (leaseId, cidr)
        }
        if let first {
            counters.operation("MCP tool calls")
            let looked = try? await stack.mcp.call("get_lease", arguments: #"{"leaseId":"\#(first.0)"}"#)
            if let looked, looked["cidr"]?.stringValue != first.1 {
                ledger.contradiction(
                    "ipam-mcp's get_lease of \(first.0) answered \(looked["cidr"]?.stringValue ?? "no cidr")")
            }
        }
        return first?.0
    }

    // MARK: The report

    /// One line per checkpoint on standard error, while the run goes on.
    static func progress(_ point: SoakReport.Checkpoint) {
        let failed = point.checks.filter { !$0.passed }.map(\.name)
        let verdict = failed.isEmpty ? "passed" : "FAILED " + failed.joined(separator: ", ")
        FileHandle.standardError.write(
            Data("soak: \(point.final ? "final check" : "checkpoint") at \(Int(point.at)) s: \(verdict)\n".utf8))
    }

    func report(
        _ journal: Journal, _ start: C.Instant, _ checkpoints: [SoakReport.Checkpoint], _ counters: SoakCounters,
        _ stack: Stack?
    ) -> SoakReport {
        let warmUp = Self.seconds(settings.length) / 6
        return SoakReport(
            run: SoakReport.Run(
                startedAt: journal.started, plannedSeconds: Self.seconds(settings.length),
                ranSeconds: elapsed(since: start), clients: settings.clients + 4, warmUpSeconds: warmUp,
                processes: (stack?.processes.map(\.name) ?? []) + ["ipam-mcp", "ipam-dev soak"]),
            operations: counters.operations, answers: counters.answers, faults: journal.faults,
            proxy: stack?.proxy.counts ?? [:], checkpoints: checkpoints,
            memory: journal.memory.growth(afterWarmUp: warmUp),
            problems: journal.problems)
    }
}

/// Tells the soak's tasks the run is over.
final class SoakStop: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
