// swift-tools-version:6.0
import PackageDescription

/// Settings of every target (Swift 6 language mode is the default for tools-version 6): `any` spelled out, imports
/// internal unless a file marks them `package import` (a module's types in its package declarations), and a member
/// visible only in files that import its module. Release builds also optimize across the package's modules as the
/// default cross-module optimization does for `public` code (package CMO: the modules here see each other through
/// `package` declarations, which default CMO leaves out; docs/Performance.md has the figures).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-package-cmo", "-allow-non-resilient-access"], .when(configuration: .release)),
]

let package = Package(
    name: "ipam",
    platforms: [.macOS(.v15)],
    // An application: nothing here is a library for others. `package` is how its modules see each other.
    products: [
        .executable(name: "table-emulator", targets: ["table-emulator"]),
        .executable(name: "vendor", targets: ["vendor"]),
        .executable(name: "arg-emulator", targets: ["arg-emulator"]),
        .executable(name: "arm-emulator", targets: ["arm-emulator"]),
        .executable(name: "manager", targets: ["manager"]),
        .executable(name: "ipam-dev", targets: ["ipam-dev"]),
        .executable(name: "ipam", targets: ["ipam"]),
        .executable(name: "ipam-mcp", targets: ["ipam-mcp"]),
        .executable(name: "ipam-fuzz", targets: ["ipam-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .target(name: "NetworkMath", swiftSettings: swiftSettings),
        .target(name: "StrictJSON", swiftSettings: swiftSettings),
        /// CSV as RFC 4180 writes it: cells quoted and defused against spreadsheet formulas, files read strictly.
        .target(name: "CSVFormat", swiftSettings: swiftSettings),
        .testTarget(name: "CSVFormatTests", dependencies: ["CSVFormat"], swiftSettings: swiftSettings),
        .testTarget(name: "StrictJSONTests", dependencies: ["StrictJSON"], swiftSettings: swiftSettings),
        .testTarget(
            name: "NetworkMathTests",
            dependencies: ["NetworkMath", .product(name: "PropertyBased", package: "swift-property-based")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "IPAMCore",
            dependencies: ["NetworkMath", "StrictJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "IPAMCoreTests", dependencies: ["NetworkMath", "IPAMCore"], swiftSettings: swiftSettings),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "HTTPTransport",
            dependencies: ["CCurl"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AzureCore",
            dependencies: [
                "HTTPTransport",
                "StrictJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AzureTables",
            dependencies: [
                "HTTPTransport", .product(name: "Logging", package: "swift-log"), "StrictJSON", "AzureCore",
            ],
            swiftSettings: swiftSettings
        ),
        /// Timeouts, the connection cap and the descriptor budget of every HTTP server of the project.
        .target(
            name: "ServerLimits",
            dependencies: [
                "IPAMCore", "StrictJSON",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TableEmulator",
            dependencies: [
                "AzureCore", "HTTPTransport", .product(name: "NIOCore", package: "swift-nio"), "StrictJSON",
                "AzureTables", "ServerLimits",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Inventory",
            dependencies: ["NetworkMath", "IPAMCore", "AzureTables", "AzureCore", "StrictJSON", "VendorAPI"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "InventoryTests",
            dependencies: [
                "AzureCore", "AzureTables", "FaultProxy", "IPAMCore", "NetworkMath", "StrictJSON", "Inventory",
                "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ], swiftSettings: swiftSettings),
        .target(
            name: "IPAMBootstrap",
            dependencies: [
                "Inventory", "ResourceGraph", "ResourceManager", "AWSClient", "AzureTables", "AzureCore",
                "HTTPTransport",
                "IPAMCore", "ManagerJobs", "PublicIPSchedule", "ServerLimits", "TokenAuth", "VendorClient",
                "VendorConsole", "VendorDomain", "VendorHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// AWS on the project's transport: SigV4 signing, strict XML, credentials and endpoints, the EC2 Query API.
        .target(
            name: "AWSClient",
            dependencies: ["HTTPTransport", "StrictJSON", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "AWSClientTests", dependencies: ["AWSClient", "HTTPTransport"],
            swiftSettings: swiftSettings),
        .target(
            name: "ResourceGraph",
            dependencies: ["HTTPTransport", .product(name: "Logging", package: "swift-log"), "AzureCore"],
            swiftSettings: swiftSettings),
        .target(
            name: "ManagerJobs",
            dependencies: [
                "IPAMCore", "NetworkMath",
                "Inventory", "ResourceGraph", "AWSClient", "ResourceManager", "PublicIPSchedule", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ManagerJobsTests",
            dependencies: [
                "AWSClient", "AzureCore", "AzureTables", "HTTPTransport", "IPAMCore", "Inventory",
                .product(name: "Logging", package: "swift-log"), "NetworkMath", "PublicIPSchedule", "ResourceGraph",
                "ResourceManager", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), "StrictJSON",
                "TableEmulator", "FaultProxy",
                "ManagerJobs", "IPAMBootstrap", "ResourceGraphEmulator", "ResourceManagerEmulator", "TestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "ResourceGraphEmulator",
            dependencies: [
                "AzureCore", "HTTPTransport", .product(name: "Logging", package: "swift-log"),
                "ResourceGraph", "TableEmulator", "ServerLimits", .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "manager",
            dependencies: [
                "IPAMCore", "Inventory", .product(name: "Logging", package: "swift-log"), "PublicIPSchedule",
                "ResourceGraph", "StrictJSON",
                "ManagerJobs", "IPAMBootstrap", "ServerLimits",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "arg-emulator",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                "ResourceGraphEmulator", "ServerLimits",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TokenAuth",
            dependencies: [
                "HTTPTransport", "StrictJSON", "IPAMCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PublicIPSchedule", dependencies: ["StrictJSON", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        .testTarget(name: "PublicIPScheduleTests", dependencies: ["PublicIPSchedule"], swiftSettings: swiftSettings),
        .target(
            name: "ResourceManager",
            dependencies: [
                "HTTPTransport", .product(name: "Logging", package: "swift-log"), "AzureCore", "StrictJSON",
            ], swiftSettings: swiftSettings),
        .target(
            name: "ResourceManagerEmulator",
            dependencies: [
                "HTTPTransport", .product(name: "Logging", package: "swift-log"),
                "TableEmulator", "ServerLimits", "StrictJSON", .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "arm-emulator",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), "StrictJSON",
                "ResourceManagerEmulator", "ServerLimits", "PublicIPSchedule",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ResourceGraphTests",
            dependencies: [
                "AzureCore", "HTTPTransport", .product(name: "Logging", package: "swift-log"), "ResourceGraph",
                "TableEmulator", "ResourceGraphEmulator", "TestSupport",
            ],
            swiftSettings: swiftSettings),
        /// The Vendor's domain: allocation, replays, leases, host addresses, pools, reservations. No HTTP.
        .target(
            name: "VendorDomain",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "IPAMCore", "Inventory", "NetworkMath", "StrictJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VendorDomainTests",
            dependencies: ["VendorDomain", "IPAMCore", "Inventory", "NetworkMath"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VendorHTTP",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"), "IPAMCore",
                .product(name: "NIOCore", package: "swift-nio"), "NetworkMath", "StrictJSON",
                "VendorDomain", "Inventory", "TokenAuth", "VendorAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The operator console on top of the domain: sessions, CSRF, sign-in, typed page models and templates; its
        /// routes reach the Vendor's router through the `VendorRouteRegistrar` the composition root hands it.
        .target(
            name: "VendorConsole",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"), "CSVFormat", "IPAMCore", "Inventory", "NetworkMath",
                "StrictJSON", "TokenAuth", "VendorAPI", "VendorDomain", "VendorHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "vendor",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), "IPAMCore",
                "VendorHTTP", "VendorConsole", "VendorDomain", "IPAMBootstrap", "ServerLimits",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VendorConsoleTests",
            dependencies: [
                "VendorConsole", "VendorHTTP", "VendorDomain", "VendorAPI", "Inventory", "IPAMCore", "NetworkMath",
                "StrictJSON", "HTTPTransport", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The API's wire format: every route (method, path, role, summary) declared once, and the request, answer
        /// and error types, encoded and decoded as the edge does. No HTTP server in it: the Vendor, `VendorClient`,
        /// `ipam` and `ipam-mcp` share it.
        .target(
            name: "VendorAPI", dependencies: ["IPAMCore", "NetworkMath", "StrictJSON"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "VendorAPITests",
            dependencies: [
                "VendorAPI", "IPAMCore", "StrictJSON", "CSVFormat", .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "VendorClient", dependencies: ["HTTPTransport", "StrictJSON", "VendorAPI"],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "ipam",
            dependencies: [
                "CSVFormat", "NetworkMath", "StrictJSON",
                "VendorClient", "VendorAPI", "IPAMCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MCPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                "VendorClient", "VendorAPI", "StrictJSON", "IPAMCore", .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ipam-mcp",
            dependencies: [
                "MCPServer", "VendorClient", "IPAMCore", "ServerLimits", "IPAMBootstrap",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "table-emulator",
            dependencies: [
                "AzureCore", .product(name: "Logging", package: "swift-log"),
                "TableEmulator", "ServerLimits",
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        /// The chaos soak's ledger of what clients were told, its checks over a table, its fault schedule, memory
        /// samples and report (`ipam-dev soak` runs it).
        .target(
            name: "Soak",
            dependencies: ["AzureTables", "IPAMCore", "Inventory", "NetworkMath"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SoakTests",
            dependencies: ["Soak", "AzureTables", "IPAMCore", "Inventory", "NetworkMath", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ipam-dev",
            dependencies: [
                "AWSClient", "AzureCore", "HTTPTransport", "Inventory", .product(name: "Logging", package: "swift-log"),
                "NetworkMath", "ResourceGraph", "FaultProxy", "Soak",
                "AzureTables", "ManagerJobs", "ResourceGraphEmulator", "IPAMCore", "StrictJSON",
                "TableEmulator", "ServerLimits", "IPAMBootstrap",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        /// libFuzzer targets over every parser of outside input (docs/Fuzzing.md): scripts/fuzz builds it with
        /// `--sanitize=fuzzer,address` and `-DFUZZING`; an ordinary build replays inputs (`FuzzCorpusTests`).
        .executableTarget(
            name: "ipam-fuzz",
            dependencies: [
                "AWSClient", "CSVFormat", "StrictJSON", "IPAMCore", "NetworkMath", "AzureTables", "HTTPTransport",
                "TableEmulator",
                "PublicIPSchedule", "TokenAuth", "Inventory", "VendorDomain", "VendorHTTP", "VendorConsole",
                "VendorAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Fuzzing/Sources/ipam-fuzz",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "FuzzCorpusTests", dependencies: ["TestSupport"], swiftSettings: swiftSettings),
        /// A fault-injecting HTTP proxy in front of the Table endpoint (throttling, ServerBusy, 412 storms, errors
        /// and timeouts after forwarding), for the tests and `ipam-dev soak`.
        .target(
            name: "FaultProxy",
            dependencies: [
                "AzureCore", "HTTPTransport", "TableEmulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FaultProxyTests",
            dependencies: ["FaultProxy", "AzureCore", "AzureTables", "HTTPTransport", "TableEmulator", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "AzureCore", "FaultProxy", "HTTPTransport", "IPAMCore", "Inventory",
                .product(name: "NIOCore", package: "swift-nio"),
                "StrictJSON",
                "TableEmulator", "AzureTables", "VendorHTTP", "VendorConsole", "VendorDomain", "TokenAuth",
                "ServerLimits",
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPTransportTests",
            dependencies: ["TableEmulator", "HTTPTransport", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AzureCoreTests",
            dependencies: ["HTTPTransport", "TableEmulator", "AzureCore", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AzureTablesTests",
            dependencies: ["AzureCore", "AzureTables", "HTTPTransport", "StrictJSON", "TableEmulator", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VendorTests",
            dependencies: [
                "AzureCore", "AzureTables", .product(name: "Crypto", package: "swift-crypto"), "FaultProxy",
                "HTTPTransport", "IPAMCore", "Inventory", "NetworkMath", "StrictJSON", "TableEmulator", "TokenAuth",
                "VendorHTTP", "VendorConsole", "VendorDomain", "VendorAPI", "TestSupport", "ServerLimits",
                "IPAMBootstrap",
                .product(name: "Yams", package: "Yams"), .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VendorClientTests",
            dependencies: ["VendorClient", "VendorAPI", "HTTPTransport", "StrictJSON", "TableEmulator", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MCPServerTests",
            dependencies: [
                "MCPServer", "VendorClient", "VendorHTTP", "VendorDomain", "IPAMCore", "HTTPTransport", "TestSupport",
                "TableEmulator", "VendorAPI", "StrictJSON", .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TokenAuthTests",
            dependencies: ["TokenAuth", "TestSupport", "IPAMCore", "StrictJSON"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ResourceManagerTests",
            dependencies: ["ResourceManager", "ResourceManagerEmulator", "AzureCore", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TableEmulatorTests",
            dependencies: [
                "AzureCore", "AzureTables",
                "TableEmulator", "TestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
