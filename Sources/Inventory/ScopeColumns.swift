import AzureTables
import IPAMCore

extension Scope {
    /// Marks a row that names this scope beside its account and region (host addresses' heads, webhook cursors and
    /// dead letters) with its cloud: `Cloud` = `aws` on an AWS scope's rows, nothing on Azure's, so Azure rows stay
    /// as they were and rows written before AWS scopes read back as Azure (`Scope(storedCloud:account:region:)`).
    func writeCloud(into properties: inout [String: TableValue]) {
        if cloud != .azure { properties["Cloud"] = .string(cloud.rawValue) }
    }
}
