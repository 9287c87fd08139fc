output "vpc_id" {
  description = "The VPC's id"
  value       = aws_vpc.this.id
}

output "cidr_block" {
  description = "The VPC's IPv4 block (the lease's)"
  value       = aws_vpc.this.cidr_block
}
