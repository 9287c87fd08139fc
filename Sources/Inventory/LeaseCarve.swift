internal import AzureCore
internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// A carve that leases a block to each of several callers in one transaction: no stock row is written and
/// deleted, and each block's network row is written once, as `leased`. What the Vendor sends while storage paces
/// the scope (docs/Design.md, "At the partition's target").
package struct LeaseCarveRequest: Sendable {
    package let scope: Scope
    package let space: ScopeSupernets
    package let length: Int
    /// The IP version of the blocks (the supernets of the other version are left alone).
    package let version: IPVersion
    /// The leases to carve a block for: none of a pool, at most `Inventory.leasesPerCarve`, each of its own
    /// SessionId.
    package let leases: [LeaseDraft]

    package init(scope: Scope, space: ScopeSupernets, length: Int, version: IPVersion, leases: [LeaseDraft]) {
        self.scope = scope
        self.space = space
        self.length = length
        self.version = version
        self.leases = leases
    }
}

/// How one lease of a `LeaseCarveRequest` ended.
package enum LeaseCarveOutcome: Sendable {
    /// Committed: the lease's row as written.
    case won(Stored<NetworkRow>)
    /// Its SessionId is already served: nothing was written for it.
    case sessionTaken
    /// Another carve took the scope's head first, or a block turned out taken: nothing was written for it.
    case lost
    /// The scope has no room for its block.
    case exhausted
    /// The answer was lost: it may have committed. Only its session row can tell.
    case outcomeUnknown
    /// Storage failed: nothing was written for it.
    case failed(InventoryError)
}

/// What a lease carve did.
package struct LeaseCarveReceipt: Sendable {
    /// One outcome per lease of the request, in its order.
    package let outcomes: [LeaseCarveOutcome]
    /// Point and range reads.
    package let reads: Int
    /// Transactions sent.
    package let transactions: Int
}

extension Inventory {
    /// Leases one lease carve may hold: the head and at most 4 operations per lease of one IPv4 block (session,
    /// network row, event, history mark) fit in 100, and an IPv6 lease has one operation more (its `hlease_` row).
    package static func leasesPerCarve(_ version: IPVersion) -> Int { version == .v4 ? 24 : 19 }

    /// Carves the smallest fits for `request.leases` under the scope's `head` lock and leases each its block, in
    /// one transaction: the head (logging every block), and per lease its session row inserted, its network row
    /// inserted as `leased`, its `carveLease` event and its history.
    ///
    /// A lease whose SessionId is already served (its session insert refused) is left out and the transaction
    /// goes again without it, under the same head: the transaction was refused whole, so the head is as it was.
    /// A changed head (another carve got in) is read again and the blocks carved again, a few times; past that,
    /// and for any other refusal, every lease still out is `lost`. A lost answer leaves every lease still out
    /// `outcomeUnknown`. With `occupied`, the head this process's last lease carve left is tried unread
    /// (`OccupiedSpace.lastHead`): one process carving the scope alone then reads nothing.
    package func carveLeases(_ request: LeaseCarveRequest, occupied: OccupiedSpace? = nil, now: @Sendable () -> Date)
        async -> LeaseCarveReceipt
    {
        let scope = request.scope
        let partition = scope.partitionKey
        var outcomes = [LeaseCarveOutcome?](repeating: nil, count: request.leases.count)
        var reads = 0
        var transactions = 0
        var head = await occupied?.lastHead(scope)
        var headRead = head == nil
        var attempts = 0
        func finishing(_ outcome: LeaseCarveOutcome) -> LeaseCarveReceipt {
            LeaseCarveReceipt(outcomes: outcomes.map { $0 ?? outcome }, reads: reads, transactions: transactions)
        }
        while attempts < 4 {
            attempts += 1
            let open = request.leases.indices.filter { outcomes[$0] == nil }
            guard !open.isEmpty else { break }
            do throws(InventoryError) {
                if headRead {
                    head = try await self.head(of: scope)
                    reads += 1
                }
            } catch {
                return finishing(.failed(error))
            }
            let blocks: [IPPrefix]
            do throws(InventoryError) {
                let carved = try await freeBlocks(
                    open.count, length: request.length, space: request.space, version: request.version, in: scope,
                    head: head, occupied: occupied)
                blocks = carved.blocks
                if carved.readPartition { reads += 1 }
            } catch {
                return finishing(.failed(error))
            }
            // Leases past the room there is get none (FreeSpace gives the smallest fits first, so these are all).
            for index in open.dropFirst(blocks.count) { outcomes[index] = .exhausted }
            var members = Array(zip(open, blocks))
            // Sessions taken leave the transaction one by one, under the same head.
            while !members.isEmpty {
                var transaction = InventoryTransaction()
                let rows = members.map { request.leases[$0.0].rows(on: $0.1) }
                transaction.add(.head, Self.takeHead(head, adding: members.map(\.1), scope: scope, now: now()))
                for (position, (row, session)) in rows.enumerated() {
                    transaction.add(.sessionOf(position), .insert(session.entity(partitionKey: partition)))
                    transaction.add(.network(row.prefix), .insert(row.entity(partitionKey: partition)))
                    transaction.add(
                        .event,
                        .insert(
                            event(.carveLease, row, before: nil, detail: "carved on demand").entity(
                                partitionKey: partition, at: EventClock.stamp(now()))))
                    transaction.add(
                        .history,
                        Self.historyActions([row], action: .carveLease, scope: scope, now: now(), newLease: true))
                }
                transactions += 1
                let committed: InventoryTransaction.Committed
                do {
                    committed = try await transaction.commit { try await submit($0) }
                } catch {
                    switch error.kind {
                    case .refused(.sessionOf(let position)?, .exists):
                        outcomes[members[position].0] = .sessionTaken
                        members.remove(at: position)
                        continue
                    case .refused(.head?, _) where attempts < 4:
                        if !headRead { await occupied?.distrustHead(in: scope) }
                        headRead = true
                        members = []
                        continue // carve again from a fresh head
                    case .refused:
                        if !headRead { await occupied?.distrustHead(in: scope) } // the next round reads it
                        return finishing(.lost)
                    case .unknown: return finishing(.outcomeUnknown)
                    case .failed: return finishing(.failed(error.error))
                    }
                }
                for ((index, _), (row, _)) in zip(members, rows) {
                    do throws(InventoryError) {
                        outcomes[index] = .won(try committed.stored(row, .network(row.prefix)))
                    } catch {
                        outcomes[index] = .outcomeUnknown // committed, but not as storage would answer: read it back
                    }
                }
                await occupied?.record(scope, from: head?.version ?? 0, added: members.map(\.1))
                if let etag = committed.etag(.head), let next = Head(taken: transaction.actions[0], etag: etag) {
                    await occupied?.remember(next, in: scope)
                }
                return finishing(.lost)
            }
        }
        return finishing(.lost)
    }
}

extension Inventory {
    /// Whether storage is pacing the scope's partition: it answered `ServerBusy` lately, and this process's requests
    /// to it wait their turn (`AdmissionControl`).
    package func isPaced(_ scope: Scope) -> Bool {
        let key = TableClient.admissionKey(table: table.name, partitionKey: scope.partitionKey)
        return table.service.pipeline.admission?.isPaced(key) ?? false
    }
}
