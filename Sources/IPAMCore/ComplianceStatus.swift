/// How a listed network (an Azure VNet, an AWS VPC) stands with ipam, as the Manager judges it each run
/// (docs/Design.md, "Network compliance").
package enum ComplianceStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// Anchored to its lease: its address space is exactly its lease's blocks.
    case compliant
    /// No lease names it: its space is held (recorded occupied), never vended, while it is listed.
    case unmanaged
    /// Outside the scope's supernets, overlapping another network (or another lease's block), or tagged with a lease
    /// it does not match (another prefix, a lease the scope does not hold).
    case noncompliant
    /// Its whole space is in the scope's excluded ranges: ipam does not judge it.
    case ignored
}
