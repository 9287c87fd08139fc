import ArgumentParser
import CSVFormat
import Foundation
import StrictJSON
import VendorAPI
import VendorClient

/// `ipam export`: the leases (the console's CSV columns) or the reservations as CSV, read page by page from the
/// listings and written as they come.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the leases (the console's CSV columns) or the reservations as CSV.",
        discussion: """
            Leases: \(API.LeaseCSV.columns.joined(separator: ",")). Reservations: \
            \(API.ReservationCSV.columns.joined(separator: ",")). RFC 4180 with CRLF line ends; a cell starting \
            with = + - or @ is written with a ' before it, so a spreadsheet does not run it (ipam import takes it \
            off). The lease file is what ipam import reads back.
            """)
    @OptionGroup var connection: Connection
    @Flag(help: "Export the leases (the default).") var leases = false
    @Flag(help: "Export the reservations (the configured exclusions included, readOnly true).") var reservations = false
    @Option(help: "Only leases in this state (repeatable).") var state: [String] = []
    @OptionGroup var scopes: ScopeFilter
    @Option(help: "Only blocks inside this CIDR (reservations: overlapping it).") var within: String?
    @Option(
        help:
            "Only blocks inside this pool's range, in its scope (a child pool's included; the pool column names each lease's)."
    ) var pool: String?
    @Option(help: "Only leases of this requester.") var requester: String?
    @Option(help: "Only leases with this tag, KEY or KEY=VALUE.") var tag: String?
    @Option(help: "Only reservations of this owner.") var owner: String?
    @Option(help: "Write to this file (replaced once complete) instead of standard output.") var output: String?

    func validate() throws {
        if leases && reservations {
            throw ValidationError(
                "--leases or --reservations: they are two tables with different columns; export each to its own file")
        }
        if reservations, !state.isEmpty || requester != nil || tag != nil {
            throw ValidationError("--state, --requester and --tag filter leases, not reservations")
        }
        if !reservations, owner != nil { throw ValidationError("--owner filters reservations (with --reservations)") }
        if within != nil && pool != nil { throw ValidationError("--within or --pool, not both") }
        if connection.json && output == nil {
            throw ValidationError("--json prints a summary: give --output FILE for the CSV")
        }
    }

    func run() async throws {
        let client = connection.client
        var query = given(scopes.query)
        if let pool {
            query = try await Self.poolQuery(pool, client: client, scope: query)
        } else if let within {
            query.append(("within", within))
        }
        var sink = try CSVSink(path: output)
        let table = reservations ? "reservations" : "leases"
        do {
            if reservations {
                sink.write(API.ReservationCSV.columns)
                let answer = try await client.reservations(query + given([("owner", owner)]))
                for item in answer.json["reservations"]?.arrayValue ?? [] {
                    sink.write(API.ReservationCSV.cells(item))
                }
            } else {
                sink.write(API.LeaseCSV.columns)
                query += state.map { ("state", $0) } + given([("requester", requester), ("tag", tag)])
                var continuation: String? = nil
                repeat {
                    let page = try await client.leases(
                        query + [("limit", "1000")] + (continuation.map { [("continuation", $0)] } ?? []))
                    for item in page.json["leases"]?.arrayValue ?? [] { sink.write(API.LeaseCSV.cells(item)) }
                    continuation = page.value.continuation
                } while continuation != nil
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        let note = "exported \(sink.records) \(table)\(output.map { " to \($0)" } ?? "")"
        if connection.json {
            print(
                JSONValue.object([
                    ("table", .string(table)), ("rows", .number(String(sink.records))), ("output", .string(output!)),
                ]).serialized())
        } else {
            FileHandle.standardError.write(Data((note + "\n").utf8))
        }
    }

    /// The listing query of a pool: its range as `within`, in its scope; a usage error naming the configured
    /// pools when there is none of that name, or when the scope options name another scope.
    static func poolQuery(_ name: String, client: VendorClient, scope: [(String, String)]) async throws -> [(
        String, String
    )] {
        let reports = try await client.pools().value.pools
        guard let report = reports.first(where: { $0.pool == name }), let cidr = report.definition?.cidr else {
            let known = reports.compactMap(\.pool).sorted()
            throw ValidationError(
                "--pool: no pool is named '\(name)'"
                    + (known.isEmpty ? " (none is configured)" : " (configured: \(known.joined(separator: ", ")))"))
        }
        let own = given([
            ("subscriptionId", report.subscription), ("accountId", report.accountId), ("region", report.region),
        ])
        for (key, value) in scope where !own.contains(where: { $0.0 == key && $0.1.lowercased() == value.lowercased() })
        {
            throw ValidationError("--pool: pool '\(name)' is in scope \(report.scope), not in the one \(key) names")
        }
        return own + [("within", cidr)]
    }
}

/// Where an export's CSV goes: standard output, or a file written beside its path and moved over it once
/// complete (an export that fails leaves no half file, and the old one as it was).
struct CSVSink {
    let path: String?
    let handle: FileHandle
    let partial: String?
    /// Records written, the header not counted.
    private(set) var records = -1
    private var buffer = ""

    init(path: String?) throws {
        self.path = path
        guard let path else {
            partial = nil
            handle = FileHandle.standardOutput
            return
        }
        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
            let handle = FileHandle(forWritingAtPath: partial)
        else { throw ValidationError("--output \(path): cannot be written") }
        self.partial = partial
        self.handle = handle
    }

    mutating func write(_ cells: [String]) {
        buffer += CSVWriter.record(cells) + CSVWriter.lineEnd
        records += 1
        if buffer.utf8.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        handle.write(Data(buffer.utf8))
        buffer = ""
    }

    mutating func finish() throws {
        flush()
        guard let path, let partial else { return }
        try handle.close()
        guard rename(partial, path) == 0 else {
            throw ValidationError("--output \(path): cannot be replaced (errno \(errno))")
        }
    }

    func abandon() {
        guard let partial else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}
