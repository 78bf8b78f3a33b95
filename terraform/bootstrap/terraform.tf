terraform {
  # 1.11: S3-native state locking (use_lockfile) is generally available.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Bootstrap keeps its own small state locally (one workspace per environment): it creates the
  # bucket every other state lives in. See README.md for moving it into that bucket afterwards.
}
