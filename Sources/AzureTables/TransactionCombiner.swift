import AzureCore

/// Group commit: independent transactions on one partition that arrive while another is in flight
/// are sent together as one entity group transaction.
///
/// Each caller's result is exactly what its own transaction would have had: the combined transaction is
/// atomic, so either every member committed (each gets its own ETags) or none did. When one member's
/// operation fails, that member gets the error (its `failedOperationIndex` counted within its own
/// operations) and the other members, which were not applied, go out again in the next round. An
/// answer that did not arrive leaves every member's outcome unknown, as it would alone.
///
/// No caller waits for a timer: the first caller of an idle partition sends at once, and whoever queues
/// up meanwhile goes in the next round, led by the first of them. Members whose row keys collide with
/// the round's (the same session twice, say) wait for a later round.
public actor TransactionCombiner {
    public let table: TableClient
    /// Most operations one round sends (a transaction holds at most 100).
    public let maxOperations: Int

    private enum Signal { case done(Result<[String?], any Error>), lead }

    private struct Member {
        let id: Int
        let actions: [TableTransactionAction]
        let continuation: CheckedContinuation<Signal, Never>?
    }

    private var queues: [String: [Member]] = [:]
    private var busy: Set<String> = []
    private var nextID = 0
    /// Transactions sent and members they carried (for the benchmark and metrics).
    public private(set) var rounds = 0
    public private(set) var members = 0

    private let onRound: @Sendable (Int) -> Void

    /// - Parameter onRound: told the number of members of every transaction sent (for metrics).
    public init(table: TableClient, maxOperations: Int = 100, onRound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.table = table
        self.maxOperations = min(100, max(1, maxOperations))
        self.onRound = onRound
    }

    /// Commits `actions` (one partition), possibly together with other callers' transactions.
    /// - Returns: the ETag of each of `actions`, as `TableClient.submitTransaction` does.
    public func submit(_ actions: [TableTransactionAction]) async throws -> [String?] {
        guard let partition = actions.first?.keys.partitionKey, actions.count <= maxOperations else {
            return try await table.submitTransaction(actions) // nothing to combine with, or too big to share a round
        }
        nextID += 1
        let id = nextID
        if !busy.contains(partition) {
            busy.insert(partition)
            queues[partition, default: []].insert(Member(id: id, actions: actions, continuation: nil), at: 0)
            return try await lead(partition, id).get()
        }
        let signal = await withCheckedContinuation { continuation in
            queues[partition, default: []].append(Member(id: id, actions: actions, continuation: continuation))
        }
        switch signal {
        case .done(let result): return try result.get()
        case .lead: return try await lead(partition, id).get()
        }
    }

    /// Sends one round that includes member `id` (at the head of the queue), hands out the results,
    /// and passes the lead to the next waiting member, if any.
    private func lead(_ partition: String, _ id: Int) async -> Result<[String?], any Error> {
        var group: [Member] = []
        var rest: [Member] = []
        var keys = Set<String>()
        var operations = 0
        for member in queues[partition] ?? [] {
            let memberKeys = member.actions.map(\.keys.rowKey)
            if operations + member.actions.count <= maxOperations, keys.isDisjoint(with: memberKeys) {
                group.append(member)
                keys.formUnion(memberKeys)
                operations += member.actions.count
            } else {
                rest.append(member)
            }
        }
        queues[partition] = rest
        rounds += 1
        members += group.count
        onRound(group.count)

        var results: [Int: Result<[String?], any Error>] = [:]
        var retry: [Member] = []
        do {
            // With others aboard, sent from its own task: the leader's cancellation (its caller went away)
            // must not fail them. Alone, the leader sends it directly (one scheduling hop less).
            let table = self.table, combined = group.flatMap(\.actions)
            let etags = group.count == 1 ? try await table.submitTransaction(combined)
                : try await Task { try await table.submitTransaction(combined) }.value
            var offset = 0
            for member in group {
                results[member.id] = .success(Array(etags[offset..<offset + member.actions.count]))
                offset += member.actions.count
            }
        } catch let error as AzureError where group.count > 1 && error.failedOperationIndex.map({ $0 >= 0 && $0 < operations }) == true {
            // One member's operation failed; the others were not applied and go out again.
            var offset = 0
            for member in group {
                let range = offset..<offset + member.actions.count
                if let index = error.failedOperationIndex, range.contains(index) {
                    results[member.id] = .failure(AzureError(status: error.status, errorCode: error.errorCode, message: error.message,
                                                             requestID: error.requestID, failedOperationIndex: index - offset))
                } else {
                    retry.append(member)
                }
                offset += member.actions.count
            }
        } catch {
            for member in group { results[member.id] = .failure(error) }
        }

        for member in group where member.id != id {
            if let result = results[member.id] { member.continuation?.resume(returning: .done(result)) }
        }
        var next = retry + (queues[partition] ?? [])
        if let own = results[id] {
            queues[partition] = next
            if let head = next.first {
                head.continuation?.resume(returning: .lead)
            } else {
                busy.remove(partition)
            }
            return own
        }
        // Our own transaction was not applied (another member's failed): lead the next round with it.
        if let index = next.firstIndex(where: { $0.id == id }) { next.remove(at: index) }
        let mine = group.first { $0.id == id }!
        queues[partition] = [Member(id: id, actions: mine.actions, continuation: nil)] + next
        return await lead(partition, id)
    }
}
