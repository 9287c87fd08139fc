import IPAMCore

/// How the console names a scope, and finds the scope a link, filter or form names.
///
/// Links, filters and forms carry a scope's partition key (the API's `scope` and `?scope=`), so they round-trip
/// for both clouds; what a page shows is `name(_:)`, and `title(_:)` keeps the id in sight: a page puts it in the `title` of
/// the element showing the name (`<td title="{{scopeTitle}}">{{scope}}</td>`), or beside it in a page of details.
enum ConsoleScopes {
    /// The display names of the configuration the page is rendered with (`SUPERNETS_CONFIG`'s `displayName`):
    /// `ConsoleRoutes` binds them around every signed-in request, so each page model names scopes the same way
    /// without carrying them. None bound: every scope by its id.
    @TaskLocal static var displayNames = AccountDisplayNames()

    /// The most characters of a display name a page shows; a longer one is cut, with "…", and is whole in
    /// `title(_:)`.
    static let shownLength = 32

    /// A scope as the console shows it: `{display name}/{region}` when its subscription or account has a display
    /// name (cut to `shownLength`); else an Azure scope by its partition key (`{subscription}_{region}`, as the
    /// console always has), an AWS scope as `aws/{account}/{region}`.
    static func name(_ scope: Scope) -> String {
        if let display = displayNames.name(of: scope) {
            let shown = display.count > shownLength ? String(display.prefix(shownLength - 1)) + "…" : display
            return "\(shown)/\(scope.region)"
        }
        return scope.cloud == .aws ? scope.description : scope.partitionKey
    }

    /// A scope's hover text, beside its `name(_:)`: its id as the API and the CSV give it (the partition key),
    /// after its whole display name when it has one.
    static func title(_ scope: Scope) -> String {
        displayNames.name(of: scope).map { "\($0)/\(scope.region): \(scope.partitionKey)" } ?? scope.partitionKey
    }

    /// A scope in a page of details (a lease's): its name, and, when that is a display name, the whole name and
    /// the id (`title(_:)`).
    static func detail(_ scope: Scope) -> String {
        displayNames.name(of: scope) == nil ? name(scope) : title(scope)
    }

    /// The name of the configured scope whose partition key is `partitionKey` (as a drift finding stores it);
    /// the key itself when none has it.
    static func name(partitionKey: String, in scopes: some Sequence<Scope>) -> String {
        scopes.first { $0.partitionKey == partitionKey }.map { name($0) } ?? partitionKey
    }

    /// The title of the configured scope whose partition key is `partitionKey`; the key itself when none has it.
    static func title(partitionKey: String, in scopes: some Sequence<Scope>) -> String {
        scopes.first { $0.partitionKey == partitionKey }.map { title($0) } ?? partitionKey
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
