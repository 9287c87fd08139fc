variable "vendor_url" {
  description = "Base URL of the ipam Vendor, e.g. https://ipam-vendor.azurewebsites.net"
  type        = string
}

variable "api_key" {
  description = "A Vendor API key (sent as x-functions-key)"
  type        = string
  sensitive   = true
}

variable "session_id" {
  description = "The lease's idempotency key: keep it stable for the environment (e.g. from workspace and environment names), so every plan gets the same lease back"
  type        = string
}

variable "prefix_length" {
  description = "Size of the network; null for the Vendor's default"
  type        = number
  default     = null
}

variable "dual_stack" {
  description = "Lease an IPv4 and an IPv6 block together (the VNet carries both: use the address_space output)"
  type        = bool
  default     = false
}

variable "prefix_length_v6" {
  description = "Size of the IPv6 block of a dual-stack network; null for the Vendor's default (/56)"
  type        = number
  default     = null
}

variable "subscription_id" {
  description = "Subscription of the scope; null for the Vendor's default scope"
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the scope; null for the Vendor's default scope"
  type        = string
  default     = null
}

variable "requester" {
  description = "Who asks (recorded with the lease)"
  type        = string
  default     = "terraform"
}

variable "subnets" {
  description = "A subnet layout to carve inside the network"
  type = list(object({
    name          = string
    prefix_length = number
  }))
  default = []
}

variable "tags" {
  description = "Tags recorded with the lease"
  type        = map(string)
  default     = {}
}
