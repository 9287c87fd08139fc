internal import AzureTables
package import Foundation
package import IPAMCore
internal import StrictJSON

/// What the Manager's last run found, kept in the table for the console and operators: when it ran, the
/// last complete Sync, and its drift report.
package struct ManagerStatus: Sendable, Equatable {
    /// One finding of the drift report.
    package struct Finding: Sendable, Equatable {
        package let kind: String
        package let scope: String
        package let cidr: String
        package let detail: String

        package init(kind: String, scope: String, cidr: String, detail: String) {
            self.kind = kind
            self.scope = scope
            self.cidr = cidr
            self.detail = detail
        }
    }

    /// How many networks of one scope's listing stood in each compliance status (`NetworkStatus`).
    package struct NetworkCount: Sendable, Equatable {
        package let scope: String
        package let counts: [ComplianceStatus: Int]

        package init(scope: String, counts: [ComplianceStatus: Int]) {
            self.scope = scope
            self.counts = counts.filter { $0.value != 0 }
        }

        package subscript(_ status: ComplianceStatus) -> Int { counts[status] ?? 0 }
    }

    package let runAt: Date
    package let complete: Bool
    /// The last run whose Resource Graph listing was complete (kept from earlier runs when this one was not).
    package let lastCompleteSyncAt: Date?
    package let drift: [Finding]
    /// Why the listing was incomplete, when it was.
    package let problems: [String]
    package let process: String
    /// Per scope (in scope order), how many of its listed networks stood in each compliance status.
    package let networks: [NetworkCount]

    package init(
        runAt: Date, complete: Bool, lastCompleteSyncAt: Date?, drift: [Finding], problems: [String], process: String,
        networks: [NetworkCount] = []
    ) {
        self.runAt = runAt
        self.complete = complete
        self.lastCompleteSyncAt = lastCompleteSyncAt
        self.drift = drift
        self.problems = problems
        self.process = process
        self.networks = networks
    }
}

extension RowKeys {
    /// The partition and row of the Manager's status.
    package static let managerPartition = "manager"
    package static let managerStatus = "status"
}

extension Inventory {
    /// Writes the status of a run (replacing the last one; `lastCompleteSyncAt` carried over when this run's
    /// listing was incomplete) when what it says differs from the stored one, or that is older than `heartbeat`
    /// (a bounded heartbeat, like `LastSeenAt`'s: an unchanged world writes nothing in between). The drift
    /// report keeps its first findings, at most 200 and as many as fit one string property (`storedFindings`);
    /// `networks` counts each scope's networks by compliance status. Returns whether it wrote.
    @discardableResult
    package func recordManagerStatus(
        runAt: Date, complete: Bool, heartbeat: TimeInterval, drift: [ManagerStatus.Finding], problems: [String],
        networks: [ManagerStatus.NetworkCount] = []
    ) async throws(InventoryError) -> Bool {
        let previous = try await managerStatus()
        let (kept, findings) = Self.storedFindings(drift)
        // What the findings are about decides; their wording (the next run's action) waits for the heartbeat.
        func subjects(_ findings: [ManagerStatus.Finding]) -> [String] {
            findings.map { "\($0.kind) \($0.scope) \($0.cidr)" }
        }
        if let previous, previous.complete == complete, subjects(previous.drift) == subjects(kept),
            previous.problems == Array(problems.prefix(20)), previous.networks == networks,
            runAt.timeIntervalSince(previous.runAt) < heartbeat, runAt >= previous.runAt
        {
            return false
        }
        let last = complete ? runAt : previous?.lastCompleteSyncAt
        var properties: [String: TableValue] = [
            "RunAt": .dateTime(runAt), "Complete": .bool(complete), "DriftCount": .int32(Int32(drift.count)),
            "Drift": .string(findings),
            "Problems": .string(
                JSONValue.array(problems.prefix(20).map { .string(String($0.prefix(500))) }).serialized()),
            "Process": .string(actor),
        ]
        if !networks.isEmpty {
            let counts: [JSONValue] = networks.map { count in
                var members: [(String, JSONValue)] = [("scope", .string(count.scope))]
                for status in ComplianceStatus.allCases {
                    members.append((status.rawValue, .number(String(count[status]))))
                }
                return .object(members)
            }
            properties["Networks"] = .string(JSONValue.array(counts).serialized())
        }
        if let last { properties["LastCompleteSyncAt"] = .dateTime(last) }
        let entity = TableEntity(
            partitionKey: RowKeys.managerPartition, rowKey: RowKeys.managerStatus, properties: properties)
        _ = try await storage { try await table.submitTransaction([.insertOrReplace(entity)]) }
        return true
    }

    /// The most findings the status keeps.
    static let maximumStoredFindings = 200
    /// The longest `Drift` property written, in UTF-16 code units: a string property holds at most 64 KiB
    /// (32,768 code units); longer, the whole status write is refused (`PropertyValueTooLarge`).
    static let maximumDriftLength = 32_000

    /// The findings a status keeps and their `Drift` JSON: the first ones, at most `maximumStoredFindings`, each
    /// detail cut to 500 characters, as many as fit `maximumDriftLength` (`DriftCount` still counts them all).
    /// What a later run compares with the stored status, so an unchanged report is seen as unchanged.
    package static func storedFindings(_ drift: [ManagerStatus.Finding]) -> (
        kept: [ManagerStatus.Finding], json: String
    ) {
        var kept: [ManagerStatus.Finding] = []
        var objects: [String] = []
        var length = 2 // the brackets
        for finding in drift.prefix(maximumStoredFindings) {
            let finding = ManagerStatus.Finding(
                kind: finding.kind, scope: finding.scope, cidr: finding.cidr, detail: String(finding.detail.prefix(500))
            )
            let object = JSONValue.object([
                ("kind", .string(finding.kind)), ("scope", .string(finding.scope)), ("cidr", .string(finding.cidr)),
                ("detail", .string(finding.detail)),
            ]).serialized()
            let added = object.utf16.count + (objects.isEmpty ? 0 : 1)
            guard length + added <= maximumDriftLength else { break }
            length += added
            kept.append(finding)
            objects.append(object)
        }
        return (kept, "[" + objects.joined(separator: ",") + "]")
    }

    /// A stored count (a JSON number), 0 when it is none.
    private static func count(_ value: JSONValue?) -> Int {
        guard case .number(let text)? = value else { return 0 }
        return Int(text) ?? 0
    }

    /// The Manager's last status, nil before its first run.
    package func managerStatus() async throws(InventoryError) -> ManagerStatus? {
        guard
            let entity = try await storage({
                try await table.get(partitionKey: RowKeys.managerPartition, rowKey: RowKeys.managerStatus)
            }),
            let runAt = entity["RunAt"]?.dateValue
        else { return nil }
        let drift = (entity["Drift"]?.stringValue.flatMap { try? JSONValue.parse($0) }?.arrayValue ?? []).map {
            ManagerStatus.Finding(
                kind: $0["kind"]?.stringValue ?? "", scope: $0["scope"]?.stringValue ?? "",
                cidr: $0["cidr"]?.stringValue ?? "", detail: $0["detail"]?.stringValue ?? "")
        }
        let problems = (entity["Problems"]?.stringValue.flatMap { try? JSONValue.parse($0) }?.arrayValue ?? [])
            .compactMap(\.stringValue)
        let stored = entity["Networks"]?.stringValue.flatMap { try? JSONValue.parse($0) }?.arrayValue ?? []
        let networks = stored.map { entry -> ManagerStatus.NetworkCount in
            var counts: [ComplianceStatus: Int] = [:]
            for status in ComplianceStatus.allCases { counts[status] = Self.count(entry[status.rawValue]) }
            return ManagerStatus.NetworkCount(scope: entry["scope"]?.stringValue ?? "", counts: counts)
        }
        return ManagerStatus(
            runAt: runAt, complete: entity["Complete"]?.boolValue ?? false,
            lastCompleteSyncAt: entity["LastCompleteSyncAt"]?.dateValue,
            drift: drift, problems: problems, process: entity["Process"]?.stringValue ?? "", networks: networks)
    }
}
