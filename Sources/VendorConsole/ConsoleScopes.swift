import IPAMCore

/// How the console names a scope, and finds the scope a link, filter or form names.
///
/// Links, filters and forms carry a scope's partition key (the API's `scope` and `?scope=`), so they round-trip
/// for both clouds; what a page shows is `name(_:)`.
enum ConsoleScopes {
    /// A scope as the console shows it: an Azure scope by its partition key (`{subscription}_{region}`, as the
    /// console always has), an AWS scope as `aws/{account}/{region}`.
    static func name(_ scope: Scope) -> String {
        scope.cloud == .aws ? scope.description : scope.partitionKey
    }

    /// The name of the configured scope whose partition key is `partitionKey` (as a drift finding stores it);
    /// the key itself when none has it.
    static func name(partitionKey: String, in scopes: some Sequence<Scope>) -> String {
        scopes.first { $0.partitionKey == partitionKey }.map { name($0) } ?? partitionKey
    }

    /// What a scope's networks are: a VNet on Azure, a VPC on AWS.
    static func network(_ scope: Scope) -> String {
        scope.cloud == .aws ? "VPC" : "VNet"
    }

    /// The scope `text` names among `scopes`, in any case: by its partition key (what the console's own links
    /// and forms send) or by its name (`aws/{account}/{region}`, `{subscription}/{region}`); nil for none.
    static func named(_ text: String, in scopes: some Sequence<Scope>) -> Scope? {
        let wanted = text.lowercased()
        return scopes.first { $0.partitionKey == wanted || $0.description == wanted }
    }

    /// A scope `<select>`'s options: each scope's partition key as its value, its name as its label.
    static func options(_ scopes: [Scope], selected: Scope?) -> [ConsoleOption] {
        scopes.map { ConsoleOption(value: $0.partitionKey, selected: $0 == selected, label: name($0)) }
    }
}
