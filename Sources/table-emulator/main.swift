import ArgumentParser
import AzureCore
import Foundation
import Logging
import ServerLimits
import TableEmulator
import UnixSignals

/// `table-emulator`: an Azurite-compatible Azure Table Storage endpoint for development and tests.
@main
struct TableEmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table-emulator",
        abstract: "Azurite-compatible Azure Table Storage endpoint (Shared Key auth, durable by default).")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free port and prints it.") var port = 10002
    @Option(help: "Folder for durable data.") var location = "./azurite/data/table"
    @Flag(help: "Keep everything in memory (nothing survives a restart).") var inMemory = false
    @Flag(help: "fsync every acknowledged write (survives power loss, slower).") var fsync = false
    @Option(name: .customLong("account"), help: "An account as NAME:BASE64KEY (repeatable; replaces devstoreaccount1).")
    var accounts: [String] = []
    @Flag(
        help:
            "Also accept any well-formed bearer token, as Azurite's OAuth mode does (tests of identity-based connections)."
    )
    var acceptBearerTokens = false
    @Flag(
        help:
            "Enforce Azure's scalability targets: entities per second per partition and per account; past them answer 503 ServerBusy as Azure does."
    )
    var azureTargets = false
    @Option(help: "With --azure-targets: entities per second one table partition takes.")
    var partitionEntitiesPerSecond = ScalabilityTargets.Rates.azure.partitionEntitiesPerSecond
    @Option(help: "With --azure-targets: entities per second the account takes.")
    var accountEntitiesPerSecond = ScalabilityTargets.Rates.azure.accountEntitiesPerSecond
    @Option(help: "Log level (trace, debug, info, notice, warning, error).") var logLevel = "warning"

    func validate() throws {
        let rates = ScalabilityTargets.Rates.azure
        if !azureTargets,
            partitionEntitiesPerSecond != rates.partitionEntitiesPerSecond
                || accountEntitiesPerSecond != rates.accountEntitiesPerSecond
        {
            throw ValidationError(
                "--partition-entities-per-second and --account-entities-per-second need --azure-targets")
        }
        guard partitionEntitiesPerSecond > 0, accountEntitiesPerSecond > 0 else {
            throw ValidationError("entities per second must be at least 1")
        }
    }

    func run() async throws {
        guard
            let limits = HTTPServerLimits.forServerProcess(
                environment: ProcessInfo.processInfo.environment, program: "table-emulator")
        else {
            throw ExitCode(2)
        }
        var accountMap: [String: String] = [:]
        for entry in accounts {
            guard let colon = entry.firstIndex(of: ":"), !entry[..<colon].isEmpty,
                Data(base64Encoded: String(entry[entry.index(after: colon)...])) != nil
            else {
                throw ValidationError("--account must be NAME:BASE64KEY")
            }
            accountMap[String(entry[..<colon])] = String(entry[entry.index(after: colon)...])
        }
        if accountMap.isEmpty {
            accountMap[StorageConnectionString.developmentAccountName] = StorageConnectionString.developmentAccountKey
        }
        var logger = Logger(label: "table-emulator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let server = try TableEmulatorServer(
            configuration: .init(
                host: host, port: port, location: inMemory ? nil : location, syncEveryWrite: fsync,
                accounts: accountMap,
                acceptBearerTokens: acceptBearerTokens, limits: limits,
                targets: azureTargets
                    ? ScalabilityTargets.Rates(
                        partitionEntitiesPerSecond: partitionEntitiesPerSecond,
                        accountEntitiesPerSecond: accountEntitiesPerSecond) : nil),
            logger: logger)
        let targets =
            azureTargets
            ? "; Azure's targets: \(partitionEntitiesPerSecond) entities/s per partition, \(accountEntitiesPerSecond) per account"
            : ""
        let storage = (inMemory ? "in memory" : "at \(location)") + targets
        let accountNames = accountMap.keys.sorted().joined(separator: ", ")
        let host = self.host
        try await server.run(gracefulShutdownSignals: [.sigterm, .sigint]) { bound in
            print("table-emulator listening on http://\(host):\(bound)/ (data \(storage); accounts: \(accountNames))")
            print("port: \(bound)")
            fflush(nil)
        }
    }
}
