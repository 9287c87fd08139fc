terraform {
  required_version = ">= 1.5"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = ">= 4.0"
    }
  }
}

provider "azurerm" {
  features {}
  # Shared-key access is disabled on the account: the provider manages the tables with Entra ID.
  storage_use_azuread = true
}
