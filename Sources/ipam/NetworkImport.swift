import ArgumentParser
import CSVFormat
import Foundation
import IPAMCore
import NetworkMath
import StrictJSON
import VendorAPI
import VendorClient

/// `ipam import FILE`: existing networks adopted in bulk from a CSV file, one `POST /api/adoptNetwork` per row.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Adopt existing networks in bulk from a CSV file (an admin key); --dry-run first.",
        discussion: """
            The header names the columns, in any order: cidr (required), sessionId, resourceId, cidrV6, \
            subscriptionId or accountId, region, scope (as ipam export writes it, instead of those), requester, \
            tag:NAME (a tag; any number). ipam export's other columns (state, leaseId, leasedAt, expiresAt, \
            anchoredAt, pool, prefixLength, tags) are read too: only rows in state leased or anchored are adopted, \
            the others skipped; tags (a JSON object of strings) are the lease's tags, with any tag:NAME columns; the \
            others are not sent. Any other column is an error. Without a sessionId, a row's is derived from its \
            scope, blocks and resource, so a re-run sends the same one. A row whose block a lease already holds for \
            the same resource (or, without one, the same sessionId) is unchanged: nothing is sent for it. Exit \
            codes: 0 every row adopted, unchanged or skipped, 1 a row failed, 2 the file is unreadable, 3 the \
            Vendor could not be reached.
            """)
    @OptionGroup var connection: Connection
    @Argument(help: "The CSV file (RFC 4180, UTF-8; at most 32 MiB and 100,000 rows).") var file: String
    @Flag(
        name: .customLong("dry-run"),
        help:
            "Only report each row's outcome (would-adopt, unchanged, skipped, error) from the file and read-only queries; nothing is written."
    ) var dryRun = false

    func run() async throws {
        let rows = try NetworkImport.rows(NetworkImport.read(file))
        var importer = NetworkImport(client: connection.client, dryRun: dryRun)
        var outcomes: [NetworkImport.Outcome] = []
        for row in rows {
            do { outcomes.append(try await importer.process(row)) } catch {
                // The Vendor could not be reached: the rows done so far, then why it stopped (exit 3).
                report(outcomes)
                throw error
            }
        }
        report(outcomes)
        if outcomes.contains(where: { $0.kind == .failed }) { throw ExitCode(1) }
    }

    func report(_ outcomes: [NetworkImport.Outcome]) {
        print(json ? NetworkImport.json(outcomes, dryRun: dryRun).serialized() : NetworkImport.table(outcomes))
        if !json { print(NetworkImport.summary(outcomes, dryRun: dryRun)) }
    }

    var json: Bool { connection.json }
}

/// Reads an import file, checks each row and adopts it (or, in a dry run, says what adopting it would do).
struct NetworkImport {
    let client: VendorClient
    let dryRun: Bool
    /// The blocks of the rows checked so far, by scope: a later row repeating or overlapping one is refused.
    var seen: [String: [(prefix: IPPrefix, row: Int)]] = [:]
    /// The SessionIds of the rows checked so far, by scope.
    var sessions: [String: Int] = [:]

    init(client: VendorClient, dryRun: Bool) {
        self.client = client
        self.dryRun = dryRun
    }

    /// The largest file read.
    static let maximumBytes = 32 << 20

    /// The columns a file may have (besides `tag:NAME`).
    enum Column: String, CaseIterable {
        case cidr, sessionId, resourceId, cidrV6, subscriptionId, accountId, region, scope, requester
        /// ipam export's: `state` decides whether a row is adopted; `tags` (a JSON object of strings) are sent as
        /// tags, with the `tag:NAME` columns'; the others are not sent (the block is `cidr`'s, the pool the
        /// Vendor's to know).
        case state, leaseId, leasedAt, expiresAt, anchoredAt, pool, prefixLength, tags
    }

    /// A column of the header: a known one, or a tag's.
    enum HeaderColumn: Equatable {
        case known(Column)
        case tag(String)
    }

    /// One data row: its cells by column (empty cells left out), its tags, where it is in the file.
    struct Row {
        var number: Int
        var line: Int
        var values: [Column: String]
        var tags: [(String, String)]
        /// Why the row cannot be read at all (its field count), if so.
        var problem: String?
    }

    /// What became of a row.
    struct Outcome {
        enum Kind: String {
            case adopted
            case wouldAdopt = "would-adopt"
            case unchanged, skipped
            case failed = "error"
        }
        var row: Int
        var line: Int
        var kind: Kind
        var cidr: String?
        var sessionId: String?
        var leaseId: String? = nil
        var field: String? = nil
        var code: String? = nil
        var message: String
    }

    // MARK: The file

    /// The file's bytes; a usage error when it cannot be read or is larger than `maximumBytes`.
    static func read(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("\(path): cannot be read")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maximumBytes + 1) ?? Data() } catch {
            throw ValidationError("\(path): cannot be read: \(error)")
        }
        guard data.count <= maximumBytes else {
            throw ValidationError("\(path): larger than \(maximumBytes >> 20) MiB; split it")
        }
        return Array(data)
    }

    /// The data rows under the header; a usage error naming the line and row when the file is not CSV, or the
    /// column when the header is wrong. Nothing is sent for a file refused here.
    static func rows(_ bytes: [UInt8]) throws -> [Row] {
        let records: [CSVReader.Record]
        do { records = try CSVReader.records(bytes) } catch { throw ValidationError("not CSV: \(error)") }
        guard let header = records.first else { throw ValidationError("the file is empty: it needs a header row") }
        let columns = try self.header(header.fields)
        return records.dropFirst().map { record in
            var row = Row(number: record.number, line: record.line, values: [:], tags: [])
            guard record.fields.count == columns.count else {
                row.problem =
                    "has \(record.fields.count) field\(record.fields.count == 1 ? "" : "s"); the header has \(columns.count)"
                return row
            }
            for (column, field) in zip(columns, record.fields) {
                let value = CSVReader.undefused(field)
                guard !value.isEmpty else { continue }
                switch column {
                case .known(let name): row.values[name] = value
                case .tag(let name): row.tags.append((name, value))
                }
            }
            return row
        }
    }

    /// The header's columns: each known (names match in any case) or `tag:NAME`, none twice, `cidr` among them.
    static func header(_ names: [String]) throws -> [HeaderColumn] {
        let known = Dictionary(uniqueKeysWithValues: Column.allCases.map { ($0.rawValue.lowercased(), $0) })
        var columns: [HeaderColumn] = []
        for (index, name) in names.enumerated() {
            let position = "row 1, column \(index + 1)"
            let column: HeaderColumn
            if let found = known[name.lowercased()] {
                column = .known(found)
            } else if name.lowercased().hasPrefix("tag:"), name.count > 4 {
                column = .tag(String(name.dropFirst(4)))
            } else if name.isEmpty {
                throw ValidationError("\(position): a column without a name")
            } else {
                throw ValidationError(
                    "\(position): unknown column '\(name)'; the columns are "
                        + Column.allCases.map(\.rawValue).joined(separator: ", ") + " and tag:NAME")
            }
            if let earlier = columns.firstIndex(of: column) {
                throw ValidationError("\(position): column '\(name)' is also column \(earlier + 1)")
            }
            columns.append(column)
        }
        guard columns.contains(.known(.cidr)) else {
            throw ValidationError("row 1: the header has no 'cidr' column (the network's block)")
        }
        return columns
    }

    // MARK: One row

    /// Checks `row`, looks up whether its network is adopted already, and adopts it unless this is a dry run.
    /// Throws only when the Vendor cannot be reached (every other failure is the row's outcome).
    mutating func process(_ row: Row) async throws(VendorClient.Failure) -> Outcome {
        let cidrText = row.values[.cidr]
        func failed(_ field: String?, _ code: String, _ message: String, session: String? = nil) -> Outcome {
            Outcome(
                row: row.number, line: row.line, kind: .failed, cidr: cidrText, sessionId: session, field: field,
                code: code, message: message)
        }
        if let problem = row.problem { return failed(nil, "InvalidRow", problem) }
        if let state = row.values[.state], state != NetworkState.leased.rawValue,
            state != NetworkState.anchored.rawValue
        {
            guard NetworkState(rawValue: state) != nil else {
                return failed("state", "InvalidField", "'\(state)' is not a state")
            }
            return Outcome(
                row: row.number, line: row.line, kind: .skipped, cidr: cidrText, sessionId: row.values[.sessionId],
                message: "state \(state): not held, nothing to adopt")
        }
        let parsed: (API.AdoptNetworkRequest, IPPrefix, IPPrefix?)
        do throws(RequestProblem) { parsed = try Self.request(row) } catch {
            return failed(Self.column(error.field), error.code.rawValue, error.message, session: row.values[.sessionId])
        }
        let (request, prefix, prefixV6) = parsed
        let session = request.sessionId
        func refused(_ failure: VendorClient.Failure) -> Outcome {
            let body = API.ErrorBody(json: failure.json)
            return failed(Self.column(body?.field), failure.code, failure.message, session: session)
        }
        // Rows of one file may not repeat or overlap each other, nor share a SessionId.
        let scope = [request.subscriptionId ?? "", request.accountId ?? "", request.region ?? ""].joined(
            separator: "|"
        ).lowercased()
        for earlier in seen[scope] ?? [] {
            for block in [prefix] + (prefixV6.map { [$0] } ?? []) where earlier.prefix.overlaps(block) {
                return earlier.prefix == block
                    ? failed("cidr", "DuplicateRow", "repeats row \(earlier.row) (\(block))", session: session)
                    : failed(
                        "cidr", "Overlap", "\(block) overlaps \(earlier.prefix) of row \(earlier.row)",
                        session: session)
            }
        }
        if let earlier = sessions[scope + "|" + session] {
            return failed("sessionId", "SessionConflict", "row \(earlier) has the same sessionId", session: session)
        }
        seen[scope, default: []].append((prefix, row.number))
        if let prefixV6 { seen[scope, default: []].append((prefixV6, row.number)) }
        sessions[scope + "|" + session] = row.number

        let outcome: (kind: Outcome.Kind, leaseId: String?, message: String)
        do throws(VendorClient.Failure) {
            if let held = try await adopted(request, prefix, prefixV6) {
                outcome = (.unchanged, held, "adopted already")
            } else if dryRun {
                if let conflict = try await conflict(request, prefix, prefixV6) {
                    return failed("cidr", "Overlap", "would be refused: \(conflict)", session: session)
                }
                outcome = (.wouldAdopt, nil, "would adopt (dry run)")
            } else {
                let answer = try await client.adoptNetwork(request)
                outcome =
                    answer.created
                    ? (.adopted, answer.value.leaseId, "adopted")
                    : (.unchanged, answer.value.leaseId, "adopted already (replay)")
            }
        } catch {
            if case .unreachable = error { throw error }
            return refused(error)
        }
        return Outcome(
            row: row.number, line: row.line, kind: outcome.kind, cidr: prefix.description, sessionId: session,
            leaseId: outcome.leaseId, message: outcome.message)
    }

    /// A row's tags: its `tags` cell (ipam export's: a JSON object of strings), then its `tag:NAME` columns; a
    /// cell that is no such object, or a tag named in both, refused naming `tags`.
    static func tags(_ row: Row, _ cell: String?) throws(RequestProblem) -> [(String, String)] {
        guard let cell else { return row.tags }
        let refusal = RequestProblem(
            code: .invalidField, field: "tags",
            message: "'tags' is a JSON object of strings, as ipam export writes it ({\"env\":\"dev\"})")
        guard let members = (try? JSONValue.parse(Array(cell.utf8)))?.objectValue else { throw refusal }
        var tags: [(String, String)] = []
        for (name, value) in members {
            guard let text = value.stringValue else { throw refusal }
            tags.append((name, text))
        }
        for (name, _) in row.tags where tags.contains(where: { $0.0 == name }) {
            throw RequestProblem(
                code: .invalidField, field: "tags", message: "tag '\(name)' is in 'tags' and in column tag:\(name)")
        }
        return tags + row.tags
    }

    /// The adoption a row asks for, checked by the Vendor's own definition (`API.AdoptNetworkRequest.checked`:
    /// each member by itself, then the blocks: host bits, the IPv6 block's version, the resource id of the cloud
    /// its scope names) short of the configuration, so a dry run refuses what the real request would, with the
    /// same code and message.
    static func request(_ row: Row) throws(RequestProblem) -> (API.AdoptNetworkRequest, IPPrefix, IPPrefix?) {
        var values = row.values
        if let scope = values[.scope] {
            // ipam export's `scope`: `{subscription}_{region}`, or `aws_{account}_{region}` for AWS.
            guard let cut = scope.lastIndex(of: "_"), cut != scope.startIndex else {
                throw RequestProblem(
                    code: .invalidField, field: "scope",
                    message:
                        "'scope' is {subscriptionId}_{region} or aws_{accountId}_{region}, as ipam export writes it"
                )
            }
            let owner = String(scope[..<cut])
            let aws = owner.lowercased().hasPrefix(Scope.awsPartitionPrefix)
            let named: [(Column, String)] = [
                (aws ? .accountId : .subscriptionId, aws ? String(owner.dropFirst(4)) : owner),
                (.region, String(scope[scope.index(after: cut)...])),
            ]
            for (column, value) in named {
                if let given = values[column], given.lowercased() != value.lowercased() {
                    throw RequestProblem(
                        code: .invalidField, field: "scope",
                        message: "'scope' \(scope) names \(column.rawValue) \(value), the row \(given)")
                }
                values[column] = value
            }
        }
        var members: [(String, JSONValue)] = [("SessionId", .string(values[.sessionId] ?? derivedSessionId(values)))]
        for column in [Column.cidr, .cidrV6, .subscriptionId, .accountId, .region, .requester, .resourceId] {
            if let value = values[column] { members.append((column.rawValue, .string(value))) }
        }
        let tags = try Self.tags(row, values[.tags])
        if !tags.isEmpty { members.append(("tags", .object(tags.map { ($0.0, .string($0.1)) }))) }
        let wire = try WireDecoder.strict.decode(
            API.AdoptNetworkRequest.self, from: JSONValue.object(members).serializedBytes)
        // Without the configuration, the scope is only the cloud its members name (a scope the Vendor does not
        // know is its answer's refusal).
        let (_, prefix, prefixV6) = try wire.checked(
            resolveScope: { () throws(RequestProblem) -> Cloud? in
                switch (wire.subscriptionId, wire.accountId) {
                case (.some, .some): throw RequestRules.bothOwners
                case (.some, nil): .azure
                case (nil, .some): .aws
                case (nil, nil): nil
                }
            },
            cloud: { $0 })
        return (wire, prefix, prefixV6)
    }

    /// A row's SessionId when it names none: `import:` and 16 hex digits of a hash (FNV-1a, 64 bits) of its scope,
    /// blocks and resource, so the same row always sends the same one.
    static func derivedSessionId(_ values: [Column: String]) -> String {
        let parts: [Column] = [.subscriptionId, .accountId, .region, .cidr, .cidrV6, .resourceId]
        let text = parts.map { (values[$0] ?? "").lowercased() }.joined(separator: "|")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "import:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The CSV column a refusal's field names (`SessionId` is `sessionId`, a tag's member `tag:NAME`).
    static func column(_ field: String?) -> String? {
        guard let field else { return nil }
        if field == "SessionId" { return Column.sessionId.rawValue }
        if field.hasPrefix("tags.") { return "tag:" + field.dropFirst(5) }
        return field
    }

    /// The scope members of `request`, as the listings take them.
    static func scopeQuery(_ request: API.AdoptNetworkRequest) -> [(String, String)] {
        given([
            ("subscriptionId", request.subscriptionId), ("accountId", request.accountId), ("region", request.region),
        ])
    }

    /// The id of the lease that holds exactly the row's blocks for its network already: the same resource (any
    /// SessionId), or without a resource on either side the same SessionId; nil when none does. One listing read.
    func adopted(_ request: API.AdoptNetworkRequest, _ prefix: IPPrefix, _ prefixV6: IPPrefix?)
        async throws(VendorClient.Failure) -> String?
    {
        let page = try await client.leases(
            Self.scopeQuery(request) + [("within", prefix.description), ("limit", "100")])
        let resource = request.resourceId?.lowercased()
        return page.value.leases.first { lease in
            lease.cidr == prefix.description && lease.cidrV6 == prefixV6?.description
                && [NetworkState.leased.rawValue, NetworkState.anchored.rawValue].contains(lease.state)
                && ((resource != nil && lease.resourceId?.lowercased() == resource)
                    || ((resource == nil || lease.resourceId == nil) && lease.sessionId == request.sessionId))
        }?.leaseId
    }

    /// What a dry run can tell would refuse the adoption, from read-only queries: a holding of the addresses that
    /// lasts (a lease, a reservation, another network's occupied space, from the address history) or a
    /// reservation or configured exclusion over them; nil when none. Two reads per block.
    func conflict(_ request: API.AdoptNetworkRequest, _ prefix: IPPrefix, _ prefixV6: IPPrefix?)
        async throws(VendorClient.Failure) -> String?
    {
        let resource = request.resourceId?.lowercased()
        for block in [prefix] + (prefixV6.map { [$0] } ?? []) {
            let scope = Self.scopeQuery(request)
            let reservations = try await client.reservations(scope + [("within", block.description)])
            if let reservation = reservations.value.reservations.first {
                return reservation.readOnly
                    ? "\(block) overlaps the configured exclusion \(reservation.cidr)"
                    : "\(block) overlaps reservation \(reservation.reservationId) (\(reservation.cidr), owner \(reservation.owner))"
            }
            let history = try await client.history(scope + [("cidr", block.description), ("limit", "1000")])
            for entry in history.value.entries where entry.states.last?.to == nil {
                // Space the Manager locked for this very network gives way to its adoption.
                if entry.kind == "occupation", let resource, entry.resourceId?.lowercased() == resource { continue }
                let holder =
                    entry.leaseId.map { "lease \($0)" } ?? entry.resourceId.map { "network \($0)" } ?? entry.kind
                return "\(block) overlaps \(entry.cidr), held by \(holder) (\(entry.states.last?.state ?? entry.kind))"
            }
        }
        return nil
    }

    // MARK: The report

    static func table(_ outcomes: [Outcome]) -> String {
        Table.render(
            ["ROW", "OUTCOME", "CIDR", "SESSION", "LEASE", "FIELD", "DETAIL"],
            outcomes.map { outcome in
                [
                    String(outcome.row), outcome.kind.rawValue, Table.text(outcome.cidr), Table.text(outcome.sessionId),
                    Table.text(outcome.leaseId), Table.text(outcome.field),
                    outcome.code.map { "\($0): \(outcome.message)" } ?? outcome.message,
                ]
            })
    }

    static func counts(_ outcomes: [Outcome]) -> [(Outcome.Kind, Int)] {
        [Outcome.Kind.adopted, .wouldAdopt, .unchanged, .skipped, .failed].map { kind in
            (kind, outcomes.filter { $0.kind == kind }.count)
        }
    }

    /// One line: how many rows came to each outcome.
    static func summary(_ outcomes: [Outcome], dryRun: Bool) -> String {
        let counts = counts(outcomes).filter { dryRun ? $0.0 != .adopted : $0.0 != .wouldAdopt }
        return "\(outcomes.count) row\(outcomes.count == 1 ? "" : "s"): "
            + counts.map { "\($0.1) \($0.0 == .failed ? "failed" : $0.0.rawValue)" }.joined(separator: ", ")
            + (dryRun ? " (dry run: nothing was written)" : "")
    }

    /// `--json`: `{dryRun, rows: [{row, line, outcome, cidr, sessionId, leaseId, field, code, message}], summary}`.
    static func json(_ outcomes: [Outcome], dryRun: Bool) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            ("dryRun", .bool(dryRun)),
            (
                "rows",
                .array(
                    outcomes.map { outcome in
                        .object([
                            ("row", .number(String(outcome.row))), ("line", .number(String(outcome.line))),
                            ("outcome", .string(outcome.kind.rawValue)), ("cidr", text(outcome.cidr)),
                            ("sessionId", text(outcome.sessionId)), ("leaseId", text(outcome.leaseId)),
                            ("field", text(outcome.field)), ("code", text(outcome.code)),
                            ("message", .string(outcome.message)),
                        ])
                    })
            ),
            (
                "summary",
                .object(
                    counts(outcomes).map { kind, count in
                        (
                            kind == .wouldAdopt ? "wouldAdopt" : kind == .failed ? "failed" : kind.rawValue,
                            JSONValue.number(String(count))
                        )
                    })
            ),
        ])
    }
}
