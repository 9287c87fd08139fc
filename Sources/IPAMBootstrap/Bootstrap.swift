package import AzureCore
package import AzureTables
import Foundation
package import HTTPTransport
package import IPAMCore
package import Inventory
package import Logging
package import ResourceGraph
package import ResourceManager
package import TokenAuth

/// The composition root's view of the process: the environment, read once, and the storage and Azure
/// clients built from it. The executables ask it for an `Inventory` and a Resource Graph client; nothing
/// else in ipam reads the environment or builds a storage client.
package struct Bootstrap: Sendable {
    /// The environment as the process started (read once).
    package let environment: [String: String]
    package let configuration: IPAMConfiguration
    let connection: StorageConnectionString
    let transport: CurlTransport

    /// The process's environment: the one place ipam reads it.
    package static func processEnvironment() -> [String: String] { ProcessInfo.processInfo.environment }

    /// - Throws: every problem with the settings, one line each (the executables exit 2 with them).
    package init(environment: [String: String] = Bootstrap.processEnvironment()) throws(IPAMConfiguration.Problems) {
        self.environment = environment
        var problems: [String] = []
        var configuration: IPAMConfiguration? = nil
        do { configuration = try IPAMConfiguration.load(environment: environment) } catch { problems += error.lines }
        var connection: StorageConnectionString? = nil
        if let text = configuration?.storageConnectionString, !text.isEmpty {
            do { connection = try StorageConnectionString(parsing: text) } catch {
                problems.append("\(Setting.storage.rawValue): \(error)")
            }
        } else if configuration != nil {
            do { connection = try Self.identityBasedConnection(environment) } catch {
                problems.append(error.description)
            }
        }
        if let credential = environment[setting: .storageCredential], credential.lowercased() != "managedidentity" {
            problems.append(
                "\(Setting.storageCredential.rawValue)=\(credential): the only credential supported is managedidentity")
        }
        var timeoutMs = 10_000
        if let text = environment[setting: .storageTimeoutMs] {
            if let value = Int(text), value >= 100 {
                timeoutMs = value
            } else {
                problems.append("\(Setting.storageTimeoutMs.rawValue)=\(text): must be a number of milliseconds ≥ 100")
            }
        }
        guard problems.isEmpty, let configuration, let connection else {
            throw IPAMConfiguration.Problems(lines: problems)
        }
        self.configuration = configuration
        self.connection = connection
        self.transport = CurlTransport(
            configuration: .init(connectTimeout: .seconds(5), requestTimeout: .milliseconds(Int64(timeoutMs))))
    }

    /// The Table endpoint of an identity-based connection (`AzureWebJobsStorage__tableServiceUri` as given,
    /// else `https://{AzureWebJobsStorage__accountName}.table.core.windows.net`), with no key: requests then
    /// carry the identity's bearer tokens.
    static func identityBasedConnection(_ environment: [String: String]) throws(IPAMConfiguration.Problems)
        -> StorageConnectionString
    {
        if let uri = environment[setting: .storageTableServiceUri] {
            guard let url = URL(string: uri), let scheme = url.scheme, ["http", "https"].contains(scheme),
                let host = url.host
            else {
                throw IPAMConfiguration.Problems(lines: [
                    "\(Setting.storageTableServiceUri.rawValue)=\(uri): must be an http(s) URL"
                ])
            }
            // The account: the host's first label on Azure, the first path segment on a local (path-style) endpoint.
            let firstSegment = url.path.split(separator: "/").first.map(String.init)
            let account =
                environment[setting: .storageAccountName]
                ?? (host.first?.isNumber == true || host == "localhost"
                    ? firstSegment : host.split(separator: ".").first.map(String.init)) ?? host
            return StorageConnectionString(
                accountName: account, accountKey: nil, tableEndpoint: uri.hasSuffix("/") ? String(uri.dropLast()) : uri)
        }
        let account = environment[setting: .storageAccountName] ?? ""
        guard account.range(of: "^[a-z0-9]{3,24}$", options: .regularExpression) != nil else {
            throw IPAMConfiguration.Problems(lines: [
                "\(Setting.storageAccountName.rawValue)=\(account): a storage account name is 3–24 lower-case letters and digits"
            ])
        }
        return StorageConnectionString(
            accountName: account, accountKey: nil, tableEndpoint: "https://\(account).table.core.windows.net")
    }

    /// The identity every Azure call uses (Table Storage without a key, Resource Graph, ARM): with
    /// `AzureWebJobsStorage__credential=managedidentity`, the managed identity (user-assigned when
    /// `AzureWebJobsStorage__clientId` names it); otherwise the default chain (`DefaultAzureCredential`).
    package func azureCredential(transport: any HTTPTransport) -> any TokenCredential {
        guard environment[setting: .storageCredential]?.lowercased() == "managedidentity" else {
            return DefaultAzureCredential.fromEnvironment(environment, transport: transport)
        }
        var chosen = environment
        chosen[Setting.azureTenantId.rawValue] = nil // a managed identity, not a service principal
        if let clientId = environment[setting: .storageClientId] { chosen[Setting.azureClientId.rawValue] = clientId }
        return DefaultAzureCredential.fromEnvironment(chosen, transport: transport)
    }

    /// A setting's value, nil when it is unset or empty.
    package subscript(_ setting: Setting) -> String? { environment[setting: setting] }

    /// Where the table lives, for start-up lines.
    package var tableEndpoint: String { connection.tableEndpoint }

    /// The inventory over the configured storage (Shared Key from the connection string, else the Azure
    /// identity), with its tables created when missing.
    /// - Parameters:
    ///   - role: which executable asks: its identity names the writer in audit events, and the Vendor's
    ///     storage retries stop sooner (a request answers within about ten seconds).
    ///   - onStorageAttempt: told of every storage attempt (metrics).
    ///   - onClaimRound: told how many claims each group-commit transaction carried (metrics).
    ///   - onStorageEntities: told the entities each answered storage request read or wrote, as the service counts
    ///     them against its scalability targets (metrics).
    ///
    /// The Vendor's storage requests share one `AdmissionControl`: a partition storage throttles is paced for the
    /// whole process (docs/Design.md, "At the partition's target"). The Manager's are not paced.
    package func inventory(
        for role: Role, logger: Logger,
        onStorageAttempt: (@Sendable (StorageAttempt) -> Void)? = nil,
        onClaimRound: @escaping @Sendable (Int) -> Void = { _ in },
        onStorageEntities: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> Inventory {
        let retryPolicy =
            role == .vendor
            ? RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: .seconds(10))
            : RetryPolicy()
        let credential: (any TokenCredential)? =
            connection.accountKey == nil ? azureCredential(transport: transport) : nil
        var onAttempt: (@Sendable (AzurePipeline.AttemptRecord) -> Void)? = nil
        if let onStorageAttempt { onAttempt = { record in onStorageAttempt(StorageAttempt(record)) } }
        let service = try TableServiceClient(
            connectionString: connection, transport: transport, credential: credential,
            retryPolicy: retryPolicy, logger: logger, onAttempt: onAttempt,
            admission: role == .vendor ? AdmissionControl(onEntities: onStorageEntities) : nil)
        let inventory = Inventory(
            table: service.table(configuration.tableName), locks: service.table("ipamLocks"), actor: role.identity,
            onClaimRound: onClaimRound)
        try await inventory.ensureTables()
        return inventory
    }

    /// The Resource Graph client: `RESOURCE_GRAPH_ENDPOINT` (default Azure's), authenticated with
    /// `RESOURCE_GRAPH_TOKEN` (a fixed token, for local endpoints only) or the Azure identity.
    package func resourceGraph(logger: Logger) -> ResourceGraphClient {
        // Its own transport: listing pages may take longer than one storage request may.
        let transport = CurlTransport()
        let credential: any TokenCredential =
            self[.resourceGraphToken].map { StaticTokenCredential($0) } ?? azureCredential(transport: transport)
        return ResourceGraphClient(
            endpoint: self[.resourceGraphEndpoint] ?? "https://management.azure.com",
            pipeline: AzurePipeline(
                transport: transport, authorizer: BearerTokenAuthorizer(credential: credential, scope: .management),
                logger: logger), logger: logger)
    }

    /// The Resource Manager client (`RESOURCE_MANAGER_ENDPOINT`, `RESOURCE_MANAGER_TOKEN` for local endpoints,
    /// else the credential chain).
    package func resourceManager(logger: Logger) -> ResourceManagerClient {
        let transport = CurlTransport()
        let credential: any TokenCredential =
            self[.resourceManagerToken].map { StaticTokenCredential($0) } ?? azureCredential(transport: transport)
        return ResourceManagerClient(
            endpoint: self[.resourceManagerEndpoint] ?? "https://management.azure.com",
            pipeline: AzurePipeline(
                transport: transport, authorizer: BearerTokenAuthorizer(credential: credential, scope: .management),
                logger: logger), logger: logger)
    }

    /// The webhook dispatcher's sender: a POST over libcurl with a 10-second limit (`transport`: its own by default).
    package static func webhookSender(transport: any HTTPTransport = CurlTransport())
        -> @Sendable (String, [(name: String, value: String)], [UInt8]) async throws -> Int
    {
        { url, headers, body in
            try await transport.execute(
                TransportRequest(
                    method: "POST", url: url, headers: HTTPHeaderList(headers), body: body, timeout: .seconds(10))
            ).status
        }
    }

    /// Which executable is running.
    package enum Role: String, Sendable {
        case vendor, manager

        /// `{role}@{host}:{pid}`: who this process is in audit events and the singleton lease.
        package var identity: String {
            "\(rawValue)@\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
        }
    }
}

extension Bootstrap {
    /// The developer tools' storage (`ipam-dev`): a connection string (`--connection-string`, else
    /// `AzureWebJobsStorage`, else the local emulator's `UseDevelopmentStorage=true`) and one libcurl transport.
    package struct DevelopmentStorage: Sendable {
        package let connection: StorageConnectionString
        package let transport: CurlTransport

        /// A Table service over Shared Key, told of every storage attempt when `onAttempt` is given.
        package func service(onAttempt: (@Sendable (AzurePipeline.AttemptRecord) -> Void)? = nil) throws
            -> TableServiceClient
        {
            try TableServiceClient(connectionString: connection, transport: transport, onAttempt: onAttempt)
        }
    }

    /// - Throws: when the connection string does not parse.
    package static func developmentStorage(
        connectionString: String?, environment: [String: String] = Bootstrap.processEnvironment()
    ) throws -> DevelopmentStorage {
        let text = connectionString ?? environment[Setting.storage.rawValue] ?? "UseDevelopmentStorage=true"
        return DevelopmentStorage(connection: try StorageConnectionString(parsing: text), transport: CurlTransport())
    }
}

extension Bootstrap {
    /// The verifier of the bearer tokens `issuer` issues for `audience` (`AUTH_JWT_*`): its OpenID configuration
    /// and keys read over its own libcurl transport.
    package func tokenVerifier(issuer: String, audience: String, failureMemory: Duration, logger: Logger)
        -> BearerTokenVerifier
    {
        BearerTokenVerifier(
            issuer: issuer, audience: audience, transport: CurlTransport(), failureMemory: failureMemory,
            logger: logger)
    }
}
