output "state_bucket" {
  description = "Name of the state bucket; must equal `bucket` in environments/<env>/backend.hcl."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "KMS key encrypting the state objects."
  value       = aws_kms_key.state.arn
}

output "github_oidc_provider_arn" {
  description = "ARN of the GitHub Actions OIDC provider (null when another environment created it)."
  value       = try(aws_iam_openid_connect_provider.github[0].arn, null)
}
