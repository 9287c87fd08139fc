output "vendor_url" {
  description = "IPAM_VENDOR_URL for the clients (ipam, ipam-mcp, the Terraform module)"
  value       = "https://${azurerm_linux_function_app.app["vendor"].default_hostname}"
}

output "manager_app_name" {
  value = azurerm_linux_function_app.app["manager"].name
}

output "identity_client_id" {
  value = azurerm_user_assigned_identity.ipam.client_id
}

output "storage_account_name" {
  value = azurerm_storage_account.ipam.name
}
