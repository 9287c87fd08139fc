# An AWS VPC whose CIDR block comes from ipam. Ask ipam for a block in an AWS scope first
# (`ipam lease new --session S --account 123456789012 --region us-east-1 --json`), then apply with its
# `cidr` and `leaseId`. The VPC carries the lease's tag, so the Manager anchors the lease to it; destroying
# the VPC lets the Manager take the block back after two complete Syncs and its release grace.
terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, {
    Name                 = var.name
    (var.lease_tag_name) = var.lease_id
  })
}
