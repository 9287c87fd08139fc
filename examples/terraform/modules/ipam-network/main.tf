# A network from ipam through the hashicorp/http data source. Terraform reads the data source on every
# plan, apply and refresh, so the same POST is sent each time: ipam answers it from the session (the same
# lease, 200) and renews the lease once less than half of its lifetime is left. Deploy a VNet with the
# `tag` output and the Manager anchors the lease to it; delete the VNet and the lease is taken back.
locals {
  # Only the fields that are set: the Vendor refuses nulls.
  request = merge(
    { SessionId = var.session_id },
    { for name, value in { prefixLength = var.prefix_length, prefixLengthV6 = var.prefix_length_v6 } : name => value if value != null },
    { for name, value in { dualStack = var.dual_stack } : name => value if value },
    { for name, value in { subscriptionId = var.subscription_id, region = var.region, requester = var.requester } : name => value if value != null },
    { for name, value in { tags = var.tags } : name => value if length(value) > 0 },
    { for name, value in { subnets = [for subnet in var.subnets : { name = subnet.name, prefixLength = subnet.prefix_length }] } : name => value if length(value) > 0 },
  )
}

data "http" "lease" {
  url    = "${trimsuffix(var.vendor_url, "/")}/api/getNewNetwork"
  method = "POST"
  request_headers = {
    Accept            = "application/json"
    "Content-Type"    = "application/json"
    "x-functions-key" = var.api_key
  }
  request_body = jsonencode(local.request)

  # Storage hiccups answer 503 with Retry-After; the same SessionId is safe to send again.
  retry {
    attempts     = 4
    min_delay_ms = 500
    max_delay_ms = 4000
  }

  lifecycle {
    postcondition {
      condition     = contains([200, 201], self.status_code)
      error_message = "ipam did not lease a network (HTTP ${self.status_code}): ${self.response_body}"
    }
  }
}

locals {
  lease = jsondecode(data.http.lease.response_body)
}
