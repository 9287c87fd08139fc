package import IPAMCore
import Inventory
package import NetworkMath

/// What `getNewNetwork` with `"dryRun": true` answers: the block(s) a real request would get now, or the lease
/// its SessionId already holds as a replay would answer it.
package struct NetworkPreview: Sendable, Equatable {
    package var sessionId: String
    package var scope: Scope
    package var pool: String?
    package var prefix: IPPrefix
    package var prefixV6: IPPrefix?
    package var subnets: [Subnet]
    /// The lease the SessionId holds already (state and expiry as the replay would leave them); nil for a new block.
    package var existing: LeaseAnswer?

    /// A subnet of the layout, with its /64 of a dual-stack lease's IPv6 block.
    package struct Subnet: Sendable, Equatable {
        package var name: String
        package var prefix: IPPrefix
        package var prefixV6: IPPrefix?
    }
}

/// Previews (docs/Design.md, "Previews"): what `getNewNetwork` would answer now, after every rule, writing
/// nothing and holding nothing.
extension VendorService {
    /// The answer `getNewNetwork(request)` would give now, or the refusal it would give (the same error).
    ///
    /// The same reads as a real request, in its order (the session, the pool's rules, the quota counters, the
    /// stock, the carve's choice), and no write: no session row, no stock taken, no carve, no event. A block is
    /// looked at in this process's stock where the next claim would take it, and left there (a stock read may
    /// fill the cache as any request's does; nothing is taken from it); with no stock anywhere, the block is the
    /// one the carve would cut (`Inventory.nextCarve`).
    package func previewNetwork(_ request: LeaseRequest) async throws(DomainError) -> NetworkPreview {
        if let lease = try await replay(request, dryRun: true) {
            let v6 = Dictionary(lease.subnetsV6.map { ($0.name, $0.prefix) }, uniquingKeysWith: { a, _ in a })
            return NetworkPreview(
                sessionId: request.sessionId, scope: request.scope, pool: request.pool, prefix: lease.prefix,
                prefixV6: lease.prefixV6,
                subnets: lease.subnets.map { .init(name: $0.name, prefix: $0.prefix, prefixV6: v6[$0.name]) },
                existing: lease)
        }
        try checkRequester(request)
        let quotas = request.v6Half == nil ? quotaCharges(request) : []
        if !quotas.isEmpty {
            let read = try await storage { () async throws(InventoryError) in
                try await inventory.usage(quotas, in: request.scope)
            }
            if let refusal = quotaRefusal(
                read, adding: UsageRow.addresses(length: request.prefixLength, version: request.ipVersion))
            {
                throw refusal
            }
        }
        let block = try await nextBlock(request)
        var blockV6: IPPrefix? = nil
        if let half = request.v6Half { blockV6 = try await nextBlock(half) }
        let layout = FreeSpace.layout(request.subnets.map { ($0.name, $0.prefixLength) }, in: block) ?? []
        let layoutV6 = blockV6.flatMap { FreeSpace.layout(request.subnets.map { ($0.name, 64) }, in: $0) } ?? []
        let v6 = Dictionary(layoutV6.map { ($0.name, $0.prefix) }, uniquingKeysWith: { a, _ in a })
        return NetworkPreview(
            sessionId: request.sessionId, scope: request.scope, pool: request.pool, prefix: block, prefixV6: blockV6,
            subnets: layout.map { .init(name: $0.name, prefix: $0.prefix, prefixV6: v6[$0.name]) }, existing: nil)
    }

    /// The block a claim for `request` (one block of one version) would take now: the one this process's stock
    /// hands out next (read first, as a request would, when it holds none), else the carve's choice, else stock
    /// another process still holds in flight; `PoolExhausted` (not counted in the metrics) when there is none.
    private func nextBlock(_ request: LeaseRequest) async throws(DomainError) -> IPPrefix {
        let key = stockKey(request)
        if let next = await stockCache.peek(key) { return next.prefix }
        let effort = Effort()
        _ = try await stockReads.turn(key) { () async throws(DomainError) in
            try await readStock(request, key: key, excluded: [], effort)
        }
        if let next = await stockCache.peek(key) { return next.prefix }
        guard let space = configuration.space(request.scope, pool: request.pool) else {
            throw exhausted(request, counting: false)
        }
        let carved = try await storage { () async throws(InventoryError) in
            try await inventory.nextCarve(
                in: request.scope, space: space, length: request.prefixLength, version: request.ipVersion,
                occupied: occupiedSpace)
        }
        if let carved { return carved }
        // No room to carve: a real request waits for stock whose claims may still fail elsewhere.
        let remaining = try await storage { () async throws(InventoryError) in
            try await inventory.availableCandidates(
                in: request.scope, length: request.prefixLength, version: request.ipVersion, pool: request.pool,
                limit: 1)
        }
        if let first = remaining.first { return first.prefix }
        throw exhausted(request, counting: false)
    }
}
