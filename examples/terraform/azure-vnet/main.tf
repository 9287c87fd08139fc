# A VNet whose address space comes from ipam (modules/ipam-network). The VNet carries the lease's tag,
# so the Manager anchors the lease to it; destroying the VNet lets the Manager take the block back after
# its release grace (the http data source itself sends nothing on destroy).
terraform {
  required_version = ">= 1.3"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 3.0"
    }
    http = {
      source  = "hashicorp/http"
      version = ">= 3.4"
    }
  }
}

provider "azurerm" {
  features {}
}

variable "vendor_url" {
  type = string
}

variable "api_key" {
  type      = string
  sensitive = true
}

variable "environment" {
  description = "Names the environment; with the workspace it makes the lease's SessionId"
  type        = string
}

variable "resource_group_name" {
  type = string
}

variable "dual_stack" {
  description = "An IPv6 block beside the IPv4 one (the VNet and each subnet get both)"
  type        = bool
  default     = false
}

variable "location" {
  type    = string
  default = "eastus"
}

module "network" {
  source = "../modules/ipam-network"

  vendor_url    = var.vendor_url
  api_key       = var.api_key
  session_id    = "tf-${terraform.workspace}-${var.environment}"
  prefix_length = 24
  dual_stack    = var.dual_stack
  region        = var.location
  requester     = "terraform/${var.environment}"
  subnets = [
    { name = "app", prefix_length = 26 },
    { name = "data", prefix_length = 27 },
  ]
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-${var.environment}"
  location            = var.location
  resource_group_name = var.resource_group_name
  address_space       = module.network.address_space
  tags = {
    (module.network.tag.name) = module.network.tag.value
  }
}

resource "azurerm_subnet" "app" {
  name                 = "app"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = module.network.subnet_prefixes["app"]
}

resource "azurerm_subnet" "data" {
  name                 = "data"
  resource_group_name  = var.resource_group_name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = module.network.subnet_prefixes["data"]
}

output "vnet_id" {
  value = azurerm_virtual_network.this.id
}

output "cidr" {
  value = module.network.cidr
}

output "lease_id" {
  value = module.network.lease_id
}
