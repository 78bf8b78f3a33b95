variable "environment" {
  description = "Environment whose state bucket to create: dev, qa or prod."
  type        = string

  validation {
    condition     = contains(["dev", "qa", "prod"], var.environment)
    error_message = "environment must be one of dev, qa, prod."
  }
}

variable "region" {
  description = "AWS region of the state bucket (the same as environments/<env>/backend.hcl)."
  type        = string
}

variable "state_bucket_prefix" {
  description = "State bucket name without the environment suffix; S3 names are global, so change it if taken (and in backend.hcl)."
  type        = string
  default     = "pizza-abc-tfstate"
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider. Set false when another environment in the same account already created it."
  type        = bool
  default     = true
}
