import Foundation

/// What the console calls each Azure subscription and AWS account: the `displayName` of its `SUPERNETS_CONFIG`
/// entries.
///
/// Presentation only: requests, answers, rows, CSV and the CLI name scopes by their ids, which never change with a
/// name. Each name belongs to one subscription or account (two may not share one, in any case), and entries of
/// the same account may repeat it but not name it differently.
package struct AccountDisplayNames: Sendable, Equatable {
    /// A subscription or an account: what a name belongs to.
    struct Owner: Hashable, Sendable {
        let cloud: Cloud
        let account: String
    }

    private var names: [Owner: String] = [:]
    /// Where each name was first given (`SUPERNETS_CONFIG[i]`), keyed by the name in lower case, for the problem
    /// that names both entries.
    private var givenAt: [String: (owner: Owner, path: String)] = [:]

    /// The most Unicode scalars a name may have.
    package static let maximumLength = 100

    package init() {}

    /// Each scope's subscription or account named as given, unchecked (`read` checks what the configuration
    /// holds): for pages and tests that need names without a configuration.
    package init(_ names: [Scope: String]) {
        for (scope, name) in names { self.names[Owner(cloud: scope.cloud, account: scope.account)] = name }
    }

    /// The configured name of `scope`'s subscription or account; nil when none is configured.
    package func name(of scope: Scope) -> String? {
        names[Owner(cloud: scope.cloud, account: scope.account)]
    }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.names == rhs.names }

    /// Reads the `displayName` of the entry at `path` (nothing when it has none) and gives it to `cloud`'s
    /// `account`: a value that is not a string, empty or blank, longer than `maximumLength`, or holding control,
    /// formatting (bidirectional overrides, zero-width) or line-separator characters is a problem, and so is a
    /// name another account has or another name for the same account.
    mutating func read(_ entry: [String: Any], cloud: Cloud, account: String, path: String, problems: inout [String]) {
        guard let raw = entry["displayName"] else { return }
        let field = "\(path).displayName"
        guard let text = raw as? String else {
            problems.append("\(field): must be a string (the name the console shows for this subscription or account)")
            return
        }
        if let problem = Self.problem(with: text) {
            problems.append("\(field)=\(text.debugDescription): \(problem)")
            return
        }
        let name = text.trimmingCharacters(in: .whitespaces)
        let owner = Owner(cloud: cloud, account: account.lowercased())
        if let earlier = names[owner], earlier != name {
            problems.append(
                "\(field)=\(name.debugDescription): \(account) is already named \(earlier.debugDescription) by another entry"
            )
            return
        }
        if let holder = givenAt[name.lowercased()], holder.owner != owner {
            problems.append(
                "\(field)=\(name.debugDescription): already the name of \(holder.owner.account) (\(holder.path)); each subscription or account needs its own"
            )
            return
        }
        names[owner] = name
        givenAt[name.lowercased()] = givenAt[name.lowercased()] ?? (owner, path)
    }

    /// Why `text` cannot be a name, nil when it can.
    static func problem(with text: String) -> String? {
        let scalars = text.unicodeScalars
        if scalars.contains(where: {
            [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory)
        }) {
            return "may not hold control, formatting or line-separator characters"
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "empty" }
        if scalars.count > maximumLength { return "longer than \(maximumLength) characters" }
        return nil
    }
}
