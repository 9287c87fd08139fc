package import IPAMCore
package import Inventory

extension VendorService {
    /// The recorded compliance of the networks of `scopes` (in scope order, address order within each; only
    /// `statuses`' when given): up to `limit`, after `cursor`, and the cursor of the next page (nil: that was the
    /// last). The Manager records them each run (`Inventory.recordNetworkStatuses`); the Vendor lists no cloud.
    package func networkStatuses(
        in scopes: [Scope], statuses: Set<ComplianceStatus>?, limit: Int, from cursor: LeaseCursor?
    ) async throws(DomainError) -> (networks: [(NetworkStatus, Scope)], next: LeaseCursor?) {
        let page = try await paged(scopes, limit: limit, from: cursor, firstKey: RowKeys.networkStatusPrefix) {
            scope, room, after throws(DomainError) in
            let page = try await storage { () async throws(InventoryError) in
                try await inventory.networkStatuses(in: scope, statuses: statuses, limit: room, after: after)
            }
            return (page.statuses, page.resumeAfter)
        }
        return (page.leases, page.next)
    }
}
