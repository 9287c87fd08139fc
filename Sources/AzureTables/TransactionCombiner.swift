import AzureCore

/// Group commit: independent transactions on one partition that arrive while the partition's
/// transactions in flight are out are sent together as one entity group transaction.
///
/// Each caller's result is exactly what its own transaction would have had: the combined transaction is
/// atomic, so either every member committed (each gets its own ETags) or none did. When one member's
/// operation fails, that member gets the error (its `failedOperationIndex` counted within its own
/// operations) and the other members, which were not applied, go out again in the next round. An
/// answer that did not arrive leaves every member's outcome unknown, as it would alone.
///
/// No caller waits for a timer: a caller that finds one of the partition's `maxInFlight` slots free sends
/// at once (with whoever is queued), and whoever queues up while all slots are taken goes in the next
/// round, led by the first of them. Members whose row keys collide with the round's (the same session
/// twice, say) wait for a later round.
///
/// While storage throttles the partition (the pipeline's `AdmissionControl` paces it), rounds go one at a time
/// and each leader first waits for the partition's turn, then gathers whoever queued meanwhile: fewer, larger
/// transactions, so the requests per claim fall as the wait grows (the entities per claim stay the same).
///
/// A member may carry a send window (`StorageDeadline.sendBy` when it was submitted, or `sendWithin` from when a
/// round built it): its round is sent under the earliest window of its members, and a member whose window has
/// passed before a round takes it fails alone, not sent. A member submitted `building:` has its operations built
/// when a round takes it, so what they stamp (an audit event's time) is the time they are sent.
package actor TransactionCombiner {
    package let table: TableClient
    /// Most operations one round sends (a transaction holds at most 100).
    package let maxOperations: Int
    /// Rounds of one partition sent at the same time. One gives the biggest rounds; two keep the storage
    /// busy while the answer of the other travels back. Safe at any number: every member's conditions
    /// (ETags, inserts) are checked by the storage, not by this queue.
    package let maxInFlight: Int

    private enum Signal {
        case done(Result<[String?], any Error>)
        case lead
    }

    private struct Member {
        let id: Int
        let operations: Operations
        /// Its operations as first given or built: the rows (and so the size) every build of them has.
        let sample: [TableTransactionAction]
        let continuation: CheckedContinuation<Signal, Never>?
    }

    /// A member's operations: given when submitted, or built by each round that takes it.
    private enum Operations: Sendable {
        case built([TableTransactionAction], sendBy: Duration?)
        case building(@Sendable () -> [TableTransactionAction], sendWithin: Duration)

        /// The operations a round sends now, and the instant after which they may not be sent.
        func take(now: Duration) -> (actions: [TableTransactionAction], sendBy: Duration?) {
            switch self {
            case .built(let actions, let sendBy): (actions, sendBy)
            case .building(let build, let window): (build(), now + window)
            }
        }
    }

    private var queues: [String: [Member]] = [:]
    /// Operations a round of a paced partition may carry: halved when a member's refusal sent the round back
    /// (storage counted all of its entities for nothing), doubled again by a round that commits.
    private var pacedLimit: [String: Int] = [:]
    /// Rounds being sent per partition (at most `maxInFlight`).
    private var inFlight: [String: Int] = [:]
    private var nextID = 0
    /// Transactions sent and members they carried (for the benchmark and metrics).
    package private(set) var rounds = 0
    package private(set) var members = 0

    private let onRound: @Sendable (Int) -> Void

    /// - Parameter onRound: told the number of members of every transaction sent (for metrics).
    package init(
        table: TableClient, maxOperations: Int = 100, maxInFlight: Int = 2,
        onRound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.table = table
        self.maxOperations = min(100, max(1, maxOperations))
        self.maxInFlight = max(1, maxInFlight)
        self.onRound = onRound
    }

    /// Rounds of `partition` that may be out at once: one while storage throttles it (the biggest rounds).
    private func slots(_ partition: String) -> Int {
        guard let admission = table.service.pipeline.admission,
            admission.isPaced(TableClient.admissionKey(table: table.name, partitionKey: partition))
        else { return maxInFlight }
        return 1
    }

    /// Commits `actions` (one partition), possibly together with other callers' transactions, within the
    /// caller's `StorageDeadline.sendBy` when it has one.
    /// - Returns: the ETag of each of `actions`, as `TableClient.submitTransaction` does.
    package func submit(_ actions: [TableTransactionAction]) async throws -> [String?] {
        try await submit(.built(actions, sendBy: StorageDeadline.sendBy), sample: actions)
    }

    /// Commits the operations `build` makes (one partition, the same rows each time), built anew by each round
    /// that takes them, so a time they stamp is the time they are sent; each round sends them within `sendWithin`
    /// of building them (none starts later: `StorageDeadline.sendBy`).
    /// - Parameter sample: the operations as the caller already built them once (what is sent is always a round's
    ///   own build): they give the member's partition, size and row keys without one more build. Nil: built here.
    /// - Returns: the ETag of each operation, as `TableClient.submitTransaction` does.
    package func submit(
        building build: @escaping @Sendable () -> [TableTransactionAction], sendWithin: Duration,
        sample: [TableTransactionAction]? = nil
    ) async throws -> [String?] {
        try await submit(.building(build, sendWithin: sendWithin), sample: sample ?? build())
    }

    private func submit(_ operations: Operations, sample: [TableTransactionAction]) async throws -> [String?] {
        guard let partition = sample.first?.keys.partitionKey, sample.count <= maxOperations else {
            // Nothing to combine with, or too big to share a round.
            let (actions, sendBy) = operations.take(now: table.service.pipeline.clock.uptime())
            return try await StorageDeadline.$sendBy.withValue(sendBy) { try await table.submitTransaction(actions) }
        }
        nextID += 1
        let own = Member(id: nextID, operations: operations, sample: sample, continuation: nil)
        if inFlight[partition, default: 0] < slots(partition) {
            inFlight[partition, default: 0] += 1
            return try await lead(partition, own).get()
        }
        let signal = await withCheckedContinuation { continuation in
            queues[partition, default: []].append(
                Member(id: own.id, operations: operations, sample: sample, continuation: continuation))
        }
        switch signal {
        case .done(let result): return try result.get()
        case .lead: return try await lead(partition, own).get()
        }
    }

    /// Sends one round led by `own` (holding one of the partition's in-flight slots) with whoever waits
    /// and fits, hands out the results, and passes the slot to the next waiting member, if any.
    private func lead(_ partition: String, _ own: Member) async -> Result<[String?], any Error> {
        let pipeline = table.service.pipeline
        if let admission = pipeline.admission {
            // Paced: wait for the partition's turn first, so the round takes everyone who arrives meanwhile.
            let key = TableClient.admissionKey(table: table.name, partitionKey: partition)
            let wait = admission.untilReady(key, now: pipeline.clock.uptime())
            if wait > .zero {
                let remaining = StorageDeadline.remaining?.read()
                try? await pipeline.clock.sleep(remaining.map { min(wait, max(.zero, $0)) } ?? wait)
            }
        }
        var results: [Int: Result<[String?], any Error>] = [:]
        var expired: [Member] = []
        let now = pipeline.clock.uptime()
        // Each member as this round sends it: its operations (built now, for a member built by its round).
        var group: [(member: Member, actions: [TableTransactionAction])] = []
        var rest: [Member] = []
        var keys = Set<String>()
        var operations = 0
        var sendBy: Duration? = nil
        let paced =
            pipeline.admission?.isPaced(TableClient.admissionKey(table: table.name, partitionKey: partition)) ?? false
        let limit = paced ? (pacedLimit[partition] ?? maxOperations) : maxOperations
        if !paced { pacedLimit[partition] = nil }
        for member in [own] + (queues[partition] ?? []) {
            if case .built(_, let memberSendBy?) = member.operations, memberSendBy <= now {
                // Its window passed while it waited: it fails alone, not sent.
                results[member.id] = .failure(AzureError.notSent(after: memberSendBy))
                expired.append(member)
                continue
            }
            let memberKeys = member.sample.map(\.keys.rowKey)
            guard
                member.id == own.id || (operations + member.sample.count <= limit && keys.isDisjoint(with: memberKeys))
            else {
                rest.append(member)
                continue
            }
            let (actions, memberSendBy) = member.operations.take(now: now) // built now, when it is built by its round
            group.append((member, actions))
            keys.formUnion(actions.map(\.keys.rowKey))
            operations += actions.count
            if let memberSendBy { sendBy = min(sendBy ?? memberSendBy, memberSendBy) }
        }
        queues[partition] = rest
        var retry: [Member] = []
        if !group.isEmpty {
            rounds += 1
            members += group.count
            onRound(group.count)
            retry = await send(
                group, to: partition, operations: operations, sendBy: sendBy, paced: paced, limit: limit,
                into: &results)
        }
        for member in group.map(\.member) + expired where member.id != own.id {
            if let result = results[member.id] { member.continuation?.resume(returning: .done(result)) }
        }
        queues[partition] = retry.filter { $0.id != own.id } + (queues[partition] ?? [])
        guard let result = results[own.id] else {
            // Our own transaction was not applied (another member's failed): lead the next round with it.
            return await lead(partition, own)
        }
        if var queue = queues[partition], !queue.isEmpty {
            // The slot goes to the first waiting member, taken off the queue so no other round hands it on too.
            let next = queue.removeFirst()
            queues[partition] = queue
            next.continuation?.resume(returning: .lead)
        } else {
            inFlight[partition, default: 1] -= 1
            if inFlight[partition] == 0 { inFlight[partition] = nil }
        }
        return result
    }

    /// Sends one round (its members' operations in order, under the earliest of their send windows) and puts each
    /// member's result in `results`. Returns the members that were not applied because another's operation failed.
    private func send(
        _ group: [(member: Member, actions: [TableTransactionAction])], to partition: String, operations: Int,
        sendBy: Duration?, paced: Bool, limit: Int, into results: inout [Int: Result<[String?], any Error>]
    ) async -> [Member] {
        var retry: [Member] = []
        do {
            // With others aboard, sent from its own task: the leader's cancellation (its caller went away)
            // must not fail them. Alone, the leader sends it directly (one scheduling hop less).
            let table = self.table
            let combined = group.flatMap(\.actions)
            let etags =
                group.count == 1
                ? try await StorageDeadline.$sendBy.withValue(sendBy) { try await table.submitTransaction(combined) }
                : try await Task {
                    try await StorageDeadline.$sendBy.withValue(sendBy) { try await table.submitTransaction(combined) }
                }.value
            var offset = 0
            for (member, actions) in group {
                results[member.id] = .success(Array(etags[offset..<offset + actions.count]))
                offset += actions.count
            }
            if paced { pacedLimit[partition] = min(maxOperations, limit * 2) }
        } catch let error as AzureError
            where group.count > 1 && error.failedOperationIndex.map({ $0 >= 0 && $0 < operations }) == true
        {
            // One member's operation failed; the others were not applied and go out again.
            if paced { pacedLimit[partition] = max(1, operations / 2) }
            var offset = 0
            for (member, actions) in group {
                let range = offset..<offset + actions.count
                if let index = error.failedOperationIndex, range.contains(index) {
                    results[member.id] = .failure(
                        AzureError(
                            status: error.status, errorCode: error.errorCode, message: error.message,
                            requestID: error.requestID, failedOperationIndex: index - offset))
                } else {
                    retry.append(member)
                }
                offset += actions.count
            }
        } catch {
            for (member, _) in group { results[member.id] = .failure(error) }
        }
        return retry
    }
}
