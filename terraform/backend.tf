# Partial configuration: bucket, key, region, use_lockfile and encrypt come from
# environments/<env>/backend.hcl via `terraform init -backend-config=...`.
terraform {
  backend "s3" {}
}
