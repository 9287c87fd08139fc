# The same lease as a managed resource with Mastercard/restapi: create POSTs getNewNetwork, refresh reads
# GET /api/leases/{id}, and destroy releases it with DELETE /api/leases/{id} (idempotent: a destroy
# repeated after a failed apply answers 200 again). The data's keys are the ones the lease answers with
# (the Vendor reads field names case-insensitively), so a refresh finds no drift.
terraform {
  required_version = ">= 1.3"
  required_providers {
    restapi = {
      source  = "Mastercard/restapi"
      version = ">= 1.19"
    }
  }
}

variable "vendor_url" {
  type = string
}

variable "api_key" {
  type      = string
  sensitive = true
}

variable "session_id" {
  description = "Keep it stable for the environment: a new one is a new lease"
  type        = string
}

variable "prefix_length" {
  type    = number
  default = 24
}

provider "restapi" {
  uri                  = var.vendor_url
  write_returns_object = true
  id_attribute         = "leaseId"
  headers = {
    Accept            = "application/json"
    "Content-Type"    = "application/json"
    "x-functions-key" = var.api_key
  }
}

resource "restapi_object" "network" {
  path           = "/api/getNewNetwork"
  read_path      = "/api/leases/{id}"
  update_path    = "/api/getNewNetwork"
  update_method  = "POST"
  destroy_path   = "/api/leases/{id}"
  destroy_method = "DELETE"
  data = jsonencode({
    sessionId    = var.session_id
    prefixLength = var.prefix_length
  })
}

output "cidr" {
  value = restapi_object.network.api_data.cidr
}

output "lease_id" {
  value = restapi_object.network.id
}
