// swift-tools-version:6.0
import PackageDescription

/// Coverage-guided fuzzing of ipam's parsers (libFuzzer through the Swift toolchain). A package of its own, so
/// the main package and its build are untouched: `scripts/fuzz` builds it into `.build-fuzz` with
/// `--sanitize=fuzzer --sanitize=address` and runs one target at a time. See docs/Fuzzing.md.
let package = Package(
    name: "ipam-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ipam", path: ".."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    ],
    targets: [
        .executableTarget(
            name: "ipam-fuzz",
            dependencies: [
                .product(name: "StrictJSON", package: "ipam"),
                .product(name: "IPAMCore", package: "ipam"),
                .product(name: "AzureTables", package: "ipam"),
                .product(name: "TableEmulator", package: "ipam"),
                .product(name: "PublicIPSchedule", package: "ipam"),
                .product(name: "TokenAuth", package: "ipam"),
                .product(name: "HTTPTransport", package: "ipam"),
                .product(name: "VendorHTTP", package: "ipam"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ]
)
