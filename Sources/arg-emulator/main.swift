import ArgumentParser
import Foundation
import Logging
import ResourceGraphEmulator
import ServerLimits

/// `arg-emulator`: a local Azure Resource Graph endpoint (VNets only) with an admin API and fault injection.
@main
struct ARGEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arg-emulator",
        abstract:
            "Local Resource Graph endpoint serving VNets; admin API: POST/DELETE/GET /admin/vnets, POST /admin/faults.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port; 0 picks one and prints it.") var port = 0
    @Option(help: "JSON file of VNet rows to start with.") var vnets: String?
    @Option(help: "Rows per page (small values exercise $skipToken paging).") var pageSize = 1000

    func run() async throws {
        guard
            let limits = HTTPServerLimits.forServerProcess(
                environment: ProcessInfo.processInfo.environment, program: "arg-emulator")
        else {
            throw ExitCode(2)
        }
        let initial = try vnets.map { try ResourceGraphEmulator.loadVNets(path: $0) } ?? []
        var logger = Logger(label: "arg-emulator")
        logger.logLevel = .warning
        let emulator = ResourceGraphEmulator(state: ResourceGraphState(vnets: initial), pageSize: pageSize)
        let host = self.host
        try await emulator.run(host: host, port: port, logger: logger, gracefulShutdown: true, limits: limits) {
            bound in
            print("arg-emulator listening on http://\(host):\(bound) (\(initial.count) VNets)")
            print("port: \(bound)")
            fflush(nil)
        }
    }
}
