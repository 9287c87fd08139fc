import Foundation

/// A parsed Azure Storage connection string, reduced to what the Table service needs.
///
/// Accepts `UseDevelopmentStorage=true` (Azurite's well-known account), or `AccountName` with
/// `AccountKey`, and either `TableEndpoint` or `DefaultEndpointsProtocol` + `EndpointSuffix`.
/// The key never appears in `description` or in errors.
package struct StorageConnectionString: Sendable, CustomStringConvertible {
    /// Azurite's well-known development account.
    package static let developmentAccountName = "devstoreaccount1"
    /// Azurite's well-known development key.
    package static let developmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    /// The connection string Azurite documents for its Table service.
    package static let development = try! StorageConnectionString(parsing: "UseDevelopmentStorage=true")

    package let accountName: String
    /// Base64 account key, or `nil` when the string carries none (bearer-token auth).
    package let accountKey: String?
    /// Table endpoint without a trailing slash; path-style endpoints include the account, e.g. `http://127.0.0.1:10002/devstoreaccount1`.
    package let tableEndpoint: String

    /// A problem with a connection string, naming the field but never echoing the key.
    package struct ParseError: Error, Sendable, CustomStringConvertible, Equatable {
        package let field: String
        package let reason: String
        package var description: String { "connection string: \(field): \(reason)" }
        package init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    package init(accountName: String, accountKey: String?, tableEndpoint: String) {
        self.accountName = accountName
        self.accountKey = accountKey
        self.tableEndpoint = tableEndpoint.hasSuffix("/") ? String(tableEndpoint.dropLast()) : tableEndpoint
    }

    package init(parsing text: String) throws {
        var fields: [String: String] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "=") else {
                let name = trimmed.count > 40 ? String(trimmed.prefix(20)) + "…" : trimmed
                throw ParseError(field: name, reason: "expected Name=Value")
            }
            let key = String(trimmed[..<equals]).lowercased()
            fields[key] = String(trimmed[trimmed.index(after: equals)...])
        }
        if fields["usedevelopmentstorage"]?.lowercased() == "true" {
            var endpoint = "http://127.0.0.1:10002/\(Self.developmentAccountName)"
            if let proxy = fields["developmentstorageproxyuri"] {
                endpoint =
                    proxy.hasSuffix("/")
                    ? proxy + Self.developmentAccountName : proxy + "/" + Self.developmentAccountName
            }
            self.init(
                accountName: Self.developmentAccountName, accountKey: Self.developmentAccountKey,
                tableEndpoint: endpoint)
            return
        }
        guard let name = fields["accountname"], !name.isEmpty else {
            throw ParseError(field: "AccountName", reason: "missing")
        }
        var key: String? = nil
        if let rawKey = fields["accountkey"] {
            guard !rawKey.isEmpty, Data(base64Encoded: rawKey) != nil else {
                throw ParseError(field: "AccountKey", reason: "not valid base64")
            }
            key = rawKey
        }
        let endpoint: String
        if let explicit = fields["tableendpoint"], !explicit.isEmpty {
            guard explicit.hasPrefix("http://") || explicit.hasPrefix("https://") else {
                throw ParseError(field: "TableEndpoint", reason: "must start with http:// or https://")
            }
            endpoint = explicit
        } else {
            let scheme = (fields["defaultendpointsprotocol"] ?? "https").lowercased()
            guard scheme == "http" || scheme == "https" else {
                throw ParseError(field: "DefaultEndpointsProtocol", reason: "must be http or https")
            }
            let suffix = fields["endpointsuffix"] ?? "core.windows.net"
            guard !suffix.isEmpty else { throw ParseError(field: "EndpointSuffix", reason: "empty") }
            endpoint = "\(scheme)://\(name).table.\(suffix)"
        }
        self.init(accountName: name, accountKey: key, tableEndpoint: endpoint)
    }

    /// Path of the endpoint (`/devstoreaccount1` for path-style, empty for host-style).
    package var endpointPath: String {
        guard let schemeEnd = tableEndpoint.range(of: "://") else { return "" }
        let rest = tableEndpoint[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }

    package var description: String {
        "AccountName=\(accountName);TableEndpoint=\(tableEndpoint);AccountKey=\(accountKey == nil ? "<none>" : "<redacted>")"
    }
}
