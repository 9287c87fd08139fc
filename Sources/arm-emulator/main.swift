import ArgumentParser
import Foundation
import Logging
import PublicIPSchedule
import ResourceManagerEmulator
import ServerLimits
import StrictJSON

/// `arm-emulator`: a local Azure Resource Manager endpoint (VMs, NICs, public IPs) with an admin API and faults.
@main
struct ARMEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arm-emulator",
        abstract:
            "Local Resource Manager endpoint: GET VMs, NICs, public IPs; PUT NICs (asynchronous); admin API: GET /admin/state, POST /admin/resources, POST /admin/faults, GET /admin/writes."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port; 0 picks one and prints it.") var port = 0
    @Option(help: "JSON file {\"resources\": [...]} to start from; changes are written back to it.") var state: String?
    @Option(
        help:
            "A public-IP schedule (YAML or JSON): every VM (with a NIC) and public IP it names is created when missing."
    ) var seedSchedule: String?

    func run() async throws {
        guard
            let limits = HTTPServerLimits.forServerProcess(
                environment: ProcessInfo.processInfo.environment, program: "arm-emulator")
        else {
            throw ExitCode(2)
        }
        let world = try state.map { try ResourceManagerState.load(file: $0) } ?? ResourceManagerState()
        if let seedSchedule {
            let schedule = try PublicIPSchedule.load(setting: seedSchedule)
            for (index, vm) in schedule.vms.values.sorted(by: { $0.label < $1.label }).enumerated()
            where await world.resource(vm.id) == nil {
                for resource in ResourceManagerState.virtualMachine(
                    subscription: vm.subscriptionId, resourceGroup: vm.resourceGroup, name: vm.name,
                    privateIP: "10.0.0.\(4 + index)")
                {
                    await world.upsert(resource)
                }
            }
            for (index, ip) in schedule.publicIPs.values.sorted(by: { $0.label < $1.label }).enumerated()
            where await world.resource(ip.id) == nil {
                await world.upsert(
                    ResourceManagerState.publicIP(
                        subscription: ip.subscriptionId, resourceGroup: ip.resourceGroup, name: ip.name,
                        address: "20.0.0.\(10 + index)"))
            }
        }
        var logger = Logger(label: "arm-emulator")
        logger.logLevel = .warning
        let emulator = ResourceManagerEmulator(state: world)
        let host = self.host
        let count = await world.all().count
        try await emulator.run(host: host, port: port, logger: logger, gracefulShutdown: true, limits: limits) {
            bound in
            print("arm-emulator listening on http://\(host):\(bound) (\(count) resources)")
            print("port: \(bound)")
            fflush(nil)
        }
    }
}
