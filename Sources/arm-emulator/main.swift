import ArgumentParser
import Foundation
import Logging
import ResourceManagerEmulator

/// `arm-emulator`: a local Azure Resource Manager endpoint (VMs, NICs, public IPs) with an admin API and faults.
@main
struct ARMEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arm-emulator",
        abstract: "Local Resource Manager endpoint: GET VMs, NICs, public IPs; PUT NICs (asynchronous); admin API: GET /admin/state, POST /admin/resources, POST /admin/faults, GET /admin/writes.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port; 0 picks one and prints it.") var port = 0
    @Option(help: "JSON file {\"resources\": [...]} to start from; changes are written back to it.") var state: String?

    func run() async throws {
        let world = try state.map { try ResourceManagerState.load(file: $0) } ?? ResourceManagerState()
        var logger = Logger(label: "arm-emulator")
        logger.logLevel = .warning
        let emulator = ResourceManagerEmulator(state: world)
        let host = self.host
        let count = await world.all().count
        try await emulator.run(host: host, port: port, logger: logger, gracefulShutdown: true) { bound in
            print("arm-emulator listening on http://\(host):\(bound) (\(count) resources)")
            print("port: \(bound)")
            fflush(nil)
        }
    }
}
