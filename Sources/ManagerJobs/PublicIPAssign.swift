package import Foundation
package import Inventory
package import Logging
package import PublicIPSchedule
package import ResourceManager

/// Assign: converges the public IPs of `PUBLIC_IP_SCHEDULE` on Azure Resource Manager. It evaluates what
/// should be true now, reads what is, and changes only what differs: the IP comes off the NIC that holds it
/// first, then goes on the target VM's primary IP configuration (removing secondary configurations earlier
/// assignments added, named `ipam-…`). Each (dis)association is logged and audited. An entry that fails is
/// logged and the others still converge; the next run heals drift and finishes what failed. No backfill:
/// after downtime a run converges to what is right at that moment.
package struct PublicIPAssign: Sendable {
    /// Reads the schedule again (the file may change between runs); throws the problems when it is invalid.
    package let schedule: @Sendable () throws(ScheduleError) -> PublicIPSchedule
    package let arm: ResourceManagerClient
    package let inventory: Inventory
    package let logger: Logger

    /// IP configurations whose name starts with this were added by earlier assignments (and are removed).
    package static let addedConfigurationPrefix = "ipam-"

    package init(
        schedule: @escaping @Sendable () throws(ScheduleError) -> PublicIPSchedule, arm: ResourceManagerClient,
        inventory: Inventory, logger: Logger
    ) {
        self.schedule = schedule
        self.arm = arm
        self.inventory = inventory
        self.logger = logger
    }

    /// What one run did.
    package struct Report: Sendable, Equatable {
        /// The assignments that should hold now.
        package var desired: [Assignment] = []
        /// Already right: nothing written.
        package var unchanged: [Assignment] = []
        /// Changed this run (its NIC writes: a disassociation and an association at most).
        package var converged: [Assignment] = []
        package var writes = 0
        /// One line per entry that failed (it is tried again next run).
        package var failures: [String] = []
        /// The schedule's problems when it is invalid (then nothing is changed).
        package var problems: [String] = []
        package init() {}
    }

    /// Converges the assignments active at `now`.
    package func run(now: Date) async -> Report {
        let plan: PublicIPSchedule
        do { plan = try schedule() } catch {
            logger.error(
                "PUBLIC_IP_SCHEDULE is invalid: nothing changed",
                metadata: ["problems": .string(error.problems.joined(separator: "; "))])
            var report = Report()
            report.problems = error.problems
            return report
        }
        return await converge(plan.desired(at: now), in: plan, now: now, reason: "schedule")
    }

    /// Assigns `ip` to `vm` now, whatever the schedule says (audited as manual). The schedule's next run
    /// converges to the schedule again where one of its entries is active.
    package func assign(vm: String, ip: String, now: Date) async -> Report {
        let plan: PublicIPSchedule
        do { plan = try schedule() } catch {
            var report = Report()
            report.problems = error.problems
            return report
        }
        var report = Report()
        if plan.vms[vm] == nil {
            report.problems.append("unknown vm '\(vm)' (vms: \(plan.vms.keys.sorted().joined(separator: ", ")))")
        }
        if plan.publicIPs[ip] == nil {
            report.problems.append(
                "unknown ip '\(ip)' (public_ips: \(plan.publicIPs.keys.sorted().joined(separator: ", ")))")
        }
        guard report.problems.isEmpty else { return report }
        return await converge([Assignment(vm: vm, ip: ip)], in: plan, now: now, reason: "manual")
    }

    func converge(_ assignments: [Assignment], in plan: PublicIPSchedule, now: Date, reason: String) async -> Report {
        var report = Report()
        report.desired = assignments
        for assignment in assignments {
            guard let vm = plan.vms[assignment.vm], let ip = plan.publicIPs[assignment.ip] else { continue }
            do {
                let writes = try await converge(vm: vm, ip: ip, now: now, reason: reason)
                if writes == 0 {
                    report.unchanged.append(assignment)
                    logger.info("no change needed", metadata: ["vm": .string(vm.label), "ip": .string(ip.label)])
                } else {
                    report.converged.append(assignment)
                    report.writes += writes
                }
            } catch {
                report.failures.append("\(assignment): \(error)")
                logger.error(
                    "public-IP assignment failed; the next run tries again",
                    metadata: ["vm": .string(vm.label), "ip": .string(ip.label), "error": .string("\(error)")])
            }
        }
        return report
    }

    /// Makes `ip` sit on `vm`'s primary IP configuration; returns the NIC writes it took (0: already right).
    func converge(vm: PublicIPSchedule.Resource, ip: PublicIPSchedule.Resource, now: Date, reason: String) async throws
        -> Int
    {
        guard let nicId = try await arm.virtualMachine(vm.id).primaryNetworkInterfaceId else {
            throw AssignFailure("VM \(vm.id) has no primary network interface")
        }
        var target = try await arm.networkInterface(nicId)
        guard let primary = target.primaryConfiguration else {
            throw AssignFailure("NIC \(nicId) has no primary IP configuration")
        }
        let leftovers = target.ipConfigurations.filter {
            !$0.primary && $0.name.hasPrefix(Self.addedConfigurationPrefix)
        }
        if sameResource(primary.publicIPAddressId, ip.id) && leftovers.isEmpty { return 0 }
        var writes = 0
        let address = try await arm.publicIPAddress(ip.id)
        // First off the NIC that holds it (another NIC; on the target NIC the one write below moves it).
        if let holder = address.networkInterfaceId, !sameResource(holder, nicId) {
            var holding = try await arm.networkInterface(holder)
            for configuration in holding.ipConfigurations where sameResource(configuration.publicIPAddressId, ip.id) {
                holding.setPublicIP(nil, on: configuration.name)
            }
            _ = try await arm.update(holding)
            writes += 1
            await audit(
                .publicIPDisassociated, ip: ip, address: address,
                detail: "\(reason): \(ip.label) off \(holder) for vm \(vm.label)", now: now)
            target = try await arm.networkInterface(nicId)
        }
        for configuration in target.ipConfigurations
        where !configuration.primary && sameResource(configuration.publicIPAddressId, ip.id) {
            target.setPublicIP(nil, on: configuration.name)
        }
        target.removeConfigurations { !$0.primary && $0.name.hasPrefix(Self.addedConfigurationPrefix) }
        target.setPublicIP(ip.id, on: primary.name)
        _ = try await arm.update(target)
        writes += 1
        let replaced = primary.publicIPAddressId.flatMap { sameResource($0, ip.id) ? nil : $0 }
        await audit(
            .publicIPAssociated, ip: ip, address: address,
            detail: "\(reason): \(ip.label) on vm \(vm.label) (\(nicId), \(primary.name))"
                + (replaced.map { "; replaced \($0)" } ?? "")
                + (leftovers.isEmpty ? "" : "; removed \(leftovers.map(\.name).joined(separator: ", "))"), now: now)
        return writes
    }

    private func audit(
        _ action: AuditAction, ip: PublicIPSchedule.Resource, address: PublicIPAddress, detail: String, now: Date
    ) async {
        logger.notice("\(action.rawValue)", metadata: ["ip": .string(ip.label), "detail": .string(detail)])
        do {
            try await inventory.recordScheduleEvent(
                action, subject: address.ipAddress ?? ip.name, detail: detail, now: now)
        } catch {
            logger.error(
                "the audit event of a public-IP change was not written",
                metadata: ["error": .string(error.detail), "detail": .string(detail)])
        }
    }
}

struct AssignFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension PublicIPAssign.Report: ManagerCycleResult {
    /// Counted as a complete run (no listing can be incomplete) with its duration; nothing else: Assign alone
    /// syncs nothing, so the time of the last complete Sync and the drift gauge are left as they are.
    package func record(in metrics: ManagerMetrics, duration: Duration, at date: Date) {
        metrics.recordRun(complete: true, duration: duration)
    }

    package var logMetadata: Logger.Metadata {
        [
            "desired": .stringConvertible(desired.count), "unchanged": .stringConvertible(unchanged.count),
            "converged": .stringConvertible(converged.count), "writes": .stringConvertible(writes),
            "failures": .stringConvertible(failures.count),
        ]
    }
}
