output "cidr" {
  description = "The leased network, e.g. 10.64.4.0/24"
  value       = local.lease.cidr
}

output "cidr_v6" {
  description = "The IPv6 block of a dual-stack network, e.g. fd00:64:0:100::/56 (null unless dual_stack)"
  value       = local.lease.cidrV6
}

output "address_space" {
  description = "The VNet's address space: the network's block, and its IPv6 block when dual-stack"
  value       = [for prefix in [local.lease.cidr, local.lease.cidrV6] : prefix if prefix != null]
}

output "lease_id" {
  description = "The lease's id"
  value       = local.lease.leaseId
}

output "subnets" {
  description = "The subnet layout: name => CIDR"
  value       = { for subnet in local.lease.subnets : subnet.name => subnet.cidr }
}

output "subnet_prefixes" {
  description = "Each subnet's address prefixes: name => [IPv4 range] or, dual-stack, [IPv4 range, IPv6 /64]"
  value       = { for subnet in local.lease.subnets : subnet.name => [for prefix in [subnet.cidr, subnet.cidrV6] : prefix if prefix != null] }
}

output "tag" {
  description = "The tag the VNet must carry so ipam anchors the lease: { name, value }"
  value       = local.lease.tag
}

output "expires_at" {
  description = "When the lease expires unless a VNet carrying the tag is deployed (null once anchored)"
  value       = local.lease.expiresAt
}
