/// The tag a deployed VNet carries to name its lease: the Vendor tells callers to put it on the VNet (a lease's
/// answer names it), Terraform (deploy/terraform, or any other tool) puts it there, and the Manager reads it to
/// bind a listed VNet to its lease.
package enum LeaseTag {
    /// The tag's name; its value is the lease id.
    package static let name = "ipam-lease-id"
}
