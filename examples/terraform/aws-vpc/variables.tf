variable "cidr" {
  description = "The IPv4 block ipam vended (the lease's `cidr`)"
  type        = string

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && can(regex("^[0-9.]+/[0-9]+$", var.cidr))
    error_message = "cidr must be an IPv4 CIDR block such as 10.64.1.0/24."
  }
}

variable "lease_id" {
  description = "The lease's id (`leaseId`): the tag that anchors the lease to this VPC"
  type        = string

  validation {
    condition     = length(trimspace(var.lease_id)) > 0
    error_message = "lease_id must name the lease ipam vended."
  }
}

variable "region" {
  description = "The AWS region of the scope the lease was vended from"
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "The VPC's Name tag"
  type        = string
  default     = "ipam-vpc"
}

variable "lease_tag_name" {
  description = "The tag the Manager reads (the Vendor's answer names it as `tag.name`)"
  type        = string
  default     = "ipam-lease-id"
}

variable "tags" {
  description = "More tags for the VPC"
  type        = map(string)
  default     = {}
}
