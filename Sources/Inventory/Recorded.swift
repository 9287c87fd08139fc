/// A name as a row stores it: one this build knows (`known`), or one it does not (written by an older or newer
/// version), kept exactly as stored so it reads, answers and writes back unchanged.
package enum Recorded<Known>: Sendable, Hashable, RawRepresentable, CustomStringConvertible, ExpressibleByStringLiteral
where Known: RawRepresentable<String> & Sendable & Hashable {
    case known(Known)
    case unknown(String)

    /// The known value of that name, else the name as it is.
    package init(rawValue: String) { self = Known(rawValue: rawValue).map(Self.known) ?? .unknown(rawValue) }

    package init(stringLiteral value: String) { self.init(rawValue: value) }

    /// The stored string.
    package var rawValue: String {
        switch self {
        case .known(let value): value.rawValue
        case .unknown(let text): text
        }
    }

    /// The value when this build knows it.
    package var known: Known? { if case .known(let value) = self { value } else { nil } }

    package var description: String { rawValue }
}

/// Why a network row exists beside the leases and the stock: stored as `Origin`.
package enum RowOrigin: String, Sendable, Hashable {
    /// The Manager recorded the row for space an unmanaged VNet uses (never stock).
    case observed
}
