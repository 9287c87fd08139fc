import ArgumentParser
import Foundation
import Hummingbird
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import PublicIPSchedule
import ResourceGraph
import ServerLimits
import ServiceLifecycle
import StrictJSON
import UnixSignals

/// `manager`: the timed jobs (Sync, Anchor, Reap, Assign, Replenish), the drift report and the public-IP schedule.
@main
struct ManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager", abstract: "ipam Manager: keeps the inventory true to what is deployed.",
        subcommands: [Run.self, Drift.self, Assign.self, Schedule.self, Dispatch.self, ServeFunctions.self])
}

/// What `manager` runs is built by the composition root (`IPAMBootstrap`'s `ManagerComposition`); this
/// executable keeps its arguments and the lifecycle of its processes.
extension ManagerComposition {
    /// The composition, or the process's exit after telling the operator why it cannot start.
    static func start(logLevel: String) async throws -> ManagerComposition {
        do {
            let manager = try await ManagerComposition.load(
                logLevel: logLevel, environment: Bootstrap.processEnvironment())
            for notice in manager.notices { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
            return manager
        } catch {
            FileHandle.standardError.write(Data(error.message.utf8))
            throw ExitCode(error.exitCode)
        }
    }

    /// Adds `GET /metrics` (Prometheus text) and `GET /healthz` to `router`.
    func addMetricsRoutes(to router: Router<BasicRequestContext>) {
        let metrics = cycle.metrics
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get("/healthz") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the jobs on MANAGER_TIMER_SCHEDULE (NCRONTAB, UTC), or once with --once.")
    @Flag(help: "Run the jobs once and exit.") var once = false
    @Option(help: "Log level.") var logLevel = "info"
    @Option(
        help:
            "Serve GET /metrics (Prometheus) and /healthz on this port (0 picks one and prints it); off when not given."
    )
    var metricsPort: Int?
    @Option(help: "Address the metrics server listens on.") var metricsHost = "127.0.0.1"

    func run() async throws {
        let manager = try await ManagerComposition.start(logLevel: logLevel)
        if once {
            let report = try await manager.runOnce()
            print(
                report.map {
                    "manager: run complete=\($0.complete) actions=\($0.actions) drift=\($0.drift.count) stocked=\($0.replenish.stocked)"
                } ?? "manager: skipped (another Manager holds the lease)")
            // Each incomplete scope and why: nothing of theirs was released, reaped or counted missing.
            for scope in report?.incompleteScopes ?? [] { print("manager: incomplete scope \(scope)") }
            for problem in report?.problems ?? [] { print("manager: incomplete listing: \(problem)") }
            return
        }
        // SIGTERM/SIGINT: stop waiting, finish a run in progress (and release its lease), then exit.
        let schedule = manager.schedule
        let service = ManagerService(
            schedule: schedule, clock: ContinuousClock(), now: { Date() }, logger: manager.logger,
            cycle: { try await manager.runOnce() },
            started: {
                print("manager: schedule \(schedule) (UTC)")
                fflush(nil)
            })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let webhooks = manager.webhooks {
            services.append(
                .init(
                    service: WebhookDispatchService(dispatcher: webhooks, clock: ContinuousClock()),
                    failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        if let metricsPort {
            let router = Router()
            manager.addMetricsRoutes(to: router)
            let host = metricsHost
            let server = Application(
                router: router, server: .http1(limits: manager.httpLimits, logger: manager.logger),
                configuration: .init(address: .hostname(host, port: metricsPort), serverName: nil),
                onServerRunning: { channel in
                    print("manager: metrics on http://\(host):\(channel.localAddress?.port ?? metricsPort)/metrics")
                    print("metrics port: \(channel.localAddress?.port ?? metricsPort)")
                    fflush(nil)
                }, logger: manager.logger)
            services.append(.init(service: server, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: manager.logger))
        try await group.run()
    }
}

struct Dispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Deliver the audit trail to WEBHOOKS_CONFIG alone: a pass every WEBHOOK_POLL_SECONDS, or one pass with --once (`manager run` runs it too)."
    )
    @Flag(help: "One pass over every webhook and scope, then exit.") var once = false
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        let manager = try await ManagerComposition.start(logLevel: logLevel)
        guard let webhooks = manager.webhooks else {
            FileHandle.standardError.write(Data("manager: WEBHOOKS_CONFIG is not set\n".utf8))
            throw ExitCode(2)
        }
        if once {
            let report = await webhooks.runOnce()
            print(
                "manager dispatch: delivered \(report.delivered), failed \(report.failed), dead-lettered \(report.deadLettered), skipped \(report.skipped)"
            )
            if report.storageFailures > 0 { throw ExitCode(1) }
            return
        }
        print(
            "manager: dispatching to \(webhooks.webhooks.map(\.name).joined(separator: ", ")) every \(webhooks.settings.poll) s"
        )
        fflush(nil)
        let service = WebhookDispatchService(dispatcher: webhooks, clock: ContinuousClock())
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: manager.logger))
        try await group.run()
    }
}

struct Drift: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report drift: occupied blocks and by what, prefix mismatches, vanished VNets, stale leases.")
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let manager = try await ManagerComposition.start(logLevel: "error")
        let listing = await manager.run.discovery.discover(Array(manager.configuration.scopes.keys))
        var rows: [Scope: [Stored<NetworkRow>]] = [:]
        for scope in manager.configuration.scopes.keys {
            rows[scope] = try await manager.run.inventory.networks(in: scope)
        }
        let report = DriftReport.build(
            configuration: manager.configuration, settings: manager.settings, rows: rows, listing: listing, now: Date())
        print(json ? report.json.serialized() : report.table)
    }
}

struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Converge the public IPs of PUBLIC_IP_SCHEDULE once (--once), or assign one IP to one VM now (--vm, --ip), under the singleton lease."
    )
    @Flag(help: "Run the schedule's Assign job alone, once.") var once = false
    @Option(help: "A VM label of the schedule: assign --ip to it now, bypassing the schedule (audited).") var vm:
        String?
    @Option(help: "A public IP label of the schedule.") var ip: String?
    @Option(help: "Log level.") var logLevel = "info"

    func validate() throws {
        guard once != (vm != nil || ip != nil) else { throw ValidationError("use --once, or --vm LABEL --ip LABEL") }
        guard (vm == nil) == (ip == nil) else { throw ValidationError("--vm and --ip go together") }
    }

    func run() async throws {
        let manager = try await ManagerComposition.start(logLevel: logLevel)
        guard let assign = manager.assign else {
            FileHandle.standardError.write(Data("manager: PUBLIC_IP_SCHEDULE is not set\n".utf8))
            throw ExitCode(2)
        }
        let vm = self.vm
        let ip = self.ip
        let cycle = ManagerCycle(
            lease: manager.cycle.lease, clock: ContinuousClock(), logger: manager.logger, metrics: manager.cycle.metrics
        ) {
            if let vm, let ip { return await assign.assign(vm: vm, ip: ip, now: Date()) }
            return await assign.run(now: Date())
        }
        guard let done = try await cycle.runOnce() else {
            print("manager: skipped (another Manager holds the lease; try again)")
            throw ExitCode(1)
        }
        for problem in done.problems { FileHandle.standardError.write(Data("manager: \(problem)\n".utf8)) }
        if !done.problems.isEmpty { throw ExitCode(2) }
        print(
            "manager assign: desired \(done.desired.map { $0.description }.joined(separator: ", ")); unchanged \(done.unchanged.count); converged \(done.converged.map { $0.description }.joined(separator: ", ")); NIC writes \(done.writes)"
        )
        for failure in done.failures { print("failed: \(failure)") }
        if !done.failures.isEmpty { throw ExitCode(1) }
    }
}

struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Print which VM should hold which public IP at a moment (default: now), from PUBLIC_IP_SCHEDULE alone (no storage, no Azure)."
    )
    @Option(help: "Local time HH:MM in the schedule's time zone.") var at: String?
    @Option(help: "Local date YYYY-MM-DD (default: today in the schedule's time zone).") var date: String?
    @Flag(help: "Print {\"at\": ..., \"assignments\": [{\"vm\", \"ip\"}]}.") var json = false

    func run() async throws {
        let environment = Bootstrap.processEnvironment()
        guard let value = environment[setting: .publicIPSchedule] else {
            FileHandle.standardError.write(Data("manager: PUBLIC_IP_SCHEDULE is not set\n".utf8))
            throw ExitCode(2)
        }
        let schedule: PublicIPSchedule
        do { schedule = try PublicIPSchedule.load(setting: value) } catch {
            FileHandle.standardError.write(
                Data(
                    ("manager: invalid PUBLIC_IP_SCHEDULE:\n" + error.problems.map { "  " + $0 }.joined(separator: "\n")
                        + "\n").utf8))
            throw ExitCode(2)
        }
        guard let instant = at == nil && date == nil ? Date() : schedule.instant(time: at, day: date, now: Date())
        else {
            FileHandle.standardError.write(Data("manager: --at is HH:MM and --date YYYY-MM-DD (a real date)\n".utf8))
            throw ExitCode(2)
        }
        let assignments = schedule.desired(at: instant)
        if json {
            print(
                JSONValue.object([
                    ("at", .string(schedule.iso8601(instant))),
                    (
                        "assignments",
                        .array(assignments.map { .object([("vm", .string($0.vm)), ("ip", .string($0.ip))]) })
                    ),
                ]).serialized())
        } else {
            print("at \(schedule.iso8601(instant)) (\(schedule.timeZone.identifier))")
            print(
                assignments.isEmpty
                    ? "nothing is managed at this moment"
                    : (["VM  IP"] + assignments.map { "\($0.vm)  \($0.ip)" }).joined(separator: "\n"))
        }
    }
}

/// Azure Functions custom handler: the host sends the timer invocation as `POST /Manager`
/// (`{"Data": {...}, "Metadata": {...}}`) and pings `GET /` until the handler answers.
struct ServeFunctions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-functions",
        abstract:
            "Serve the timer trigger and the operators' Run trigger as an Azure Functions custom handler (FUNCTIONS_CUSTOMHANDLER_PORT)."
    )
    @Option(help: "Port when FUNCTIONS_CUSTOMHANDLER_PORT is not set (0 picks one and prints it).") var port = 0
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        let manager = try await ManagerComposition.start(logLevel: logLevel)
        let router = Router()
        router.get("/") { _, _ in Response(status: .ok) }
        manager.addMetricsRoutes(to: router)
        // The timer trigger: the answer is the invocation's Outputs/Logs/ReturnValue (500 records it as failed).
        router.post("/Manager") { request, _ -> Response in
            let invocation = try? JSONValue.parse(try await Self.body(request))
            let pastDue = invocation?["Data"]?.objectValue?.first?.1["IsPastDue"] == .bool(true)
            var (logs, _, failed) = await Self.runLogged(manager, note: pastDue ? " (past due)" : "")
            if let webhooks = manager.webhooks {
                // Under the Functions host there is no long-running dispatcher: each timer invocation makes a pass.
                let report = await webhooks.runOnce()
                logs.append(
                    .string(
                        "webhooks: delivered \(report.delivered), failed \(report.failed), dead-lettered \(report.deadLettered)"
                    ))
                failed = failed || report.storageFailures > 0
            }
            return Self.invocationAnswer(outputs: .object([]), logs: logs, status: failed ? .internalServerError : .ok)
        }
        // The operators' HTTP trigger (`Run`, authLevel admin: the host checks the master key): one run now,
        // its report as the function's HTTP answer (`res`): 200 after a run, 409 when another Manager holds
        // the lease, 500 when the run failed.
        router.post("/Run") { _, _ -> Response in
            let (logs, report, failed) = await Self.runLogged(manager, note: " (requested over HTTP)")
            let statusCode = failed ? 500 : (report == nil ? 409 : 200)
            var body: [(String, JSONValue)] = [("ran", .bool(report != nil)), ("logs", .array(logs))]
            if let report {
                body += [
                    ("complete", .bool(report.complete)), ("drift", .number(String(report.drift.count))),
                    (
                        "actions",
                        .object(report.actions.keys.sorted().map { ($0, .number(String(report.actions[$0]!))) })
                    ),
                    (
                        "stocked",
                        .object(
                            report.replenish.stocked.keys.sorted().map {
                                ($0, .number(String(report.replenish.stocked[$0]!)))
                            })
                    ),
                ]
            }
            let res = JSONValue.object([
                ("statusCode", .number(String(statusCode))), ("body", .string(JSONValue.object(body).serialized())),
                ("headers", .object([("Content-Type", .string("application/json"))])),
            ])
            return Self.invocationAnswer(outputs: .object([("res", res)]), logs: logs, status: .ok)
        }
        let listen = manager.functionsPort ?? port
        let app = Application(
            router: router, server: .http1(limits: manager.httpLimits, logger: manager.logger),
            configuration: .init(address: .hostname("127.0.0.1", port: listen)),
            onServerRunning: { channel in
                print("manager custom handler listening on 127.0.0.1:\(channel.localAddress?.port ?? listen)")
                print("port: \(channel.localAddress?.port ?? listen)")
                fflush(nil)
            }, logger: manager.logger)
        try await app.runService()
    }

    static func body(_ request: Request) async throws -> [UInt8] {
        var buffer = try await request.body.collect(upTo: 1 << 20)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// One run under the singleton lease, as log lines for the host: the report (nil: another Manager
    /// holds the lease) and whether the run failed.
    static func runLogged(_ manager: ManagerComposition, note: String) async -> ([JSONValue], ManagerRun.Report?, Bool)
    {
        var logs: [JSONValue] = []
        do {
            if let report = try await manager.runOnce() {
                logs.append(
                    .string(
                        "manager run: complete=\(report.complete) actions=\(report.actions.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")) drift=\(report.drift.count)\(note)"
                    ))
                for problem in report.problems { logs.append(.string("incomplete listing: \(problem)")) }
                return (logs, report, false)
            }
            logs.append(.string("skipped: another Manager holds the lease"))
            return (logs, nil, false)
        } catch {
            logs.append(.string("manager run failed: \(error)"))
            return (logs, nil, true)
        }
    }

    /// The custom handler's answer to an invocation: `{Outputs, Logs, ReturnValue}`.
    static func invocationAnswer(outputs: JSONValue, logs: [JSONValue], status: HTTPResponse.Status) -> Response {
        let answer = JSONValue.object([("Outputs", outputs), ("Logs", .array(logs)), ("ReturnValue", .null)])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.serializedBytes)))
    }
}
