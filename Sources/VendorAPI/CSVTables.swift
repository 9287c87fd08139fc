package import StrictJSON

/// The tables the console and `ipam export` write as CSV: which columns, in which order, and each cell's text.
///
/// A column is a member of the answer's JSON and its cell that member's text as the API answers it (times as
/// `ISO8601.format`, numbers and booleans as written, `""` for null or absent, an object as its JSON with its keys
/// sorted), so the console, writing from the domain's rows, and `ipam`, writing the API's JSON as it came, write the
/// same cells. The cells are written with `CSVWriter` (quoted, formulas defused).
extension API {
    /// The leases (`GET /console/leases.csv`, `ipam export --leases`): members of `LeaseRecord`. An anchored
    /// lease has no `expiresAt`. The last three are the leases table's pool, size and tags: `pool` (empty outside
    /// any pool), `prefixLength` (the IPv4 block's, or an IPv6 lease's own) and `tags`, one cell holding the JSON
    /// object with its keys sorted (`{"env":"dev","team":"a"}`, `{}` for none), so every tag comes back as it was.
    package enum LeaseCSV {
        package static let columns = [
            "cidr", "state", "leaseId", "sessionId", "scope", "requester", "leasedAt", "expiresAt", "anchoredAt",
            "resourceId", "cidrV6", "pool", "prefixLength", "tags",
        ]

        /// The cells of a lease as the API answers it (one item of `GET /api/leases`).
        package static func cells(_ lease: JSONValue) -> [String] { API.cells(lease, columns) }

        /// The cells of a lease.
        package static func cells(_ lease: LeaseRecord) -> [String] { cells(WireEncoder.json(lease)) }
    }

    /// The reservations (`ipam export --reservations`): members of `Reservation`, configured exclusions included
    /// (`readOnly` true, no `createdAt`).
    package enum ReservationCSV {
        package static let columns = [
            "cidr", "reservationId", "scope", "owner", "reason", "createdBy", "createdAt", "expiresAt", "readOnly",
        ]

        /// The cells of a reservation as the API answers it (one item of `GET /api/reservations`).
        package static func cells(_ reservation: JSONValue) -> [String] { API.cells(reservation, columns) }
    }

    /// Each column's member of `object` as text.
    static func cells(_ object: JSONValue, _ columns: [String]) -> [String] {
        columns.map { column in
            switch object[column] {
            case .string(let text)?: text
            case .number(let text)?: text
            case .bool(let value)?: value ? "true" : "false"
            case .object(let members)?: JSONValue.object(members.sorted { $0.0 < $1.0 }).serialized()
            case .null?, nil, .array?: ""
            }
        }
    }
}
