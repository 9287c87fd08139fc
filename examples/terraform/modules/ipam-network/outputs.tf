output "cidr" {
  description = "The leased network, e.g. 10.64.4.0/24"
  value       = local.lease.cidr
}

output "lease_id" {
  description = "The lease's id"
  value       = local.lease.leaseId
}

output "subnets" {
  description = "The subnet layout: name => CIDR"
  value       = { for subnet in local.lease.subnets : subnet.name => subnet.cidr }
}

output "tag" {
  description = "The tag the VNet must carry so ipam anchors the lease: { name, value }"
  value       = local.lease.tag
}

output "expires_at" {
  description = "When the lease expires unless a VNet carrying the tag is deployed (null once anchored)"
  value       = local.lease.expiresAt
}
