import Foundation
package import IPAMCore
import Inventory
package import Logging
package import ManagerJobs
import PublicIPSchedule
package import ServerLimits

/// Why an executable could not start, as it tells its operator: the lines for standard error (each under the
/// executable's name) and the exit status (2: the settings are wrong; 1: storage is not usable).
package struct StartFailure: Error, Sendable {
    package let message: String
    package let exitCode: Int32

    /// Every problem with the settings, one line each: exit 2.
    static func configuration(_ program: String, _ problems: [String]) -> StartFailure {
        StartFailure(
            message: "\(program): invalid configuration:\n" + problems.map { "  " + $0 }.joined(separator: "\n") + "\n",
            exitCode: 2)
    }

    /// The storage the settings name cannot be used (unreachable, refused, its tables not creatable): exit 1.
    static func storage(_ program: String, _ bootstrap: Bootstrap, _ error: any Error, after notices: [String] = [])
        -> StartFailure
    {
        StartFailure(
            message: notices.map { $0 + "\n" }.joined()
                + "\(program): storage at \(bootstrap.tableEndpoint) is not usable: \(error)\n",
            exitCode: 1)
    }
}

/// Everything `manager` runs, built from the environment (read once, through `Bootstrap`): the ipam settings
/// (docs/Configuration.md) plus the Manager's (`MANAGER_TIMER_SCHEDULE`, `RESOURCE_GRAPH_*`,
/// `RESOURCE_MANAGER_*`, `*_SECONDS`, `WEBHOOK_*`, `PUBLIC_IP_SCHEDULE`, the HTTP server limits) and the Azure
/// credential variables. The executable keeps its arguments and its processes' lifecycle.
package struct ManagerComposition: Sendable {
    package let configuration: IPAMConfiguration
    package let settings: ManagerSettings
    package let schedule: NCrontab
    /// Sync, Anchor, Reap, Assign, host addresses, Replenish: one run.
    package let run: ManagerRun
    /// `run` under the singleton lease, with the Manager's metrics.
    package let cycle: ManagerCycle<ContinuousClock, ManagerRun.Report>
    /// The public-IP schedule's job (nil without `PUBLIC_IP_SCHEDULE`).
    package let assign: PublicIPAssign?
    /// Delivers the audit trail to `WEBHOOKS_CONFIG` (nil without webhooks).
    package let webhooks: WebhookDispatcher?
    package let logger: Logger
    /// `FUNCTIONS_CUSTOMHANDLER_PORT`, set by the Azure Functions host.
    package let functionsPort: Int?
    /// Timeouts and the connection cap of the Manager's HTTP servers (metrics, the Functions custom handler).
    package let httpLimits: HTTPServerLimits
    /// What the executable should tell its operator at start-up (standard error), e.g. a lowered connection cap.
    package let notices: [String]

    /// Reads every setting (all problems at once), then opens storage (its tables created when missing).
    /// - Throws: `StartFailure` (exit 2 with every problem with the settings; exit 1 when storage is not usable).
    package static func load(logLevel: String, environment: [String: String] = Bootstrap.processEnvironment())
        async throws(StartFailure) -> ManagerComposition
    {
        var problems: [String] = []
        var bootstrap: Bootstrap? = nil
        do { bootstrap = try Bootstrap(environment: environment) } catch { problems += error.lines }
        var settings = ManagerSettings()
        do { settings = try ManagerSettings.load(environment: environment) } catch { problems += error.lines }
        var webhookSettings = WebhookSettings()
        do { webhookSettings = try WebhookSettings.load(environment: environment) } catch { problems += error.lines }
        var schedule: NCrontab? = nil
        let scheduleText = environment[setting: .managerSchedule] ?? "0 */15 * * * *"
        do { schedule = try NCrontab(scheduleText) } catch {
            problems.append("\(Setting.managerSchedule.rawValue)=\(scheduleText): \(error.message)")
        }
        let publicIPs = environment[setting: .publicIPSchedule]
        if let publicIPs {
            do { _ = try PublicIPSchedule.load(setting: publicIPs) } catch {
                problems += error.problems.map { "\(Setting.publicIPSchedule.rawValue): \($0)" }
            }
        }
        var httpLimits = HTTPServerLimits.defaults
        var limitsNotice: String? = nil
        do { (httpLimits, limitsNotice) = try HTTPServerLimits.forServerProcess(environment: environment) } catch {
            problems += error.lines
        }
        var logger = Logger(label: "ipam.manager")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var aws: EC2Discovery? = nil
        if let bootstrap {
            do { aws = try bootstrap.awsDiscovery(logger: logger) } catch { problems.append("AWS: \(error)") }
        }
        guard problems.isEmpty, let bootstrap, let schedule else {
            throw .configuration("manager", problems)
        }
        let notices = limitsNotice.map { ["manager: \($0)"] } ?? []
        let configuration = bootstrap.configuration
        let inventory: Inventory
        do { inventory = try await bootstrap.inventory(for: .manager, logger: logger) } catch {
            throw .storage("manager", bootstrap, error, after: notices)
        }
        let assign = publicIPs.map { value in
            PublicIPAssign(
                schedule: { () throws(ScheduleError) in try PublicIPSchedule.load(setting: value) },
                arm: bootstrap.resourceManager(logger: logger),
                inventory: inventory, logger: logger)
        }
        // Each scope is listed by its cloud's discovery: Azure's through Resource Graph, AWS's through EC2.
        let discovery: [any NetworkDiscovery] =
            [ResourceGraphDiscovery(client: bootstrap.resourceGraph(logger: logger))] + (aws.map { [$0] } ?? [])
        let run = ManagerRun(
            configuration: configuration, settings: settings, inventory: inventory, discovery: discovery,
            assign: assign, logger: logger)
        let lease = inventory.singletonLease(
            owner: inventory.actor, duration: .milliseconds(Int64(settings.singletonLease * 1000)))
        let metrics = ManagerMetrics()
        let cycle = ManagerCycle(lease: lease, clock: ContinuousClock(), logger: logger, metrics: metrics) {
            try await run.run(now: Date())
        }
        let webhooks =
            configuration.webhooks.isEmpty
            ? nil
            : WebhookDispatcher(
                webhooks: configuration.webhooks, scopes: Array(configuration.scopes.keys), inventory: inventory,
                settings: webhookSettings,
                logger: logger, metrics: metrics.webhooks, send: Bootstrap.webhookSender())
        return ManagerComposition(
            configuration: configuration, settings: settings, schedule: schedule, run: run, cycle: cycle,
            assign: assign, webhooks: webhooks, logger: logger,
            functionsPort: bootstrap[.functionsPort].flatMap(Int.init), httpLimits: httpLimits,
            notices: notices)
    }

    /// One run under the singleton lease. Returns nil when another Manager holds it.
    package func runOnce() async throws -> ManagerRun.Report? { try await cycle.runOnce() }
}
