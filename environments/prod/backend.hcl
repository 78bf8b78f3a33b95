# S3 backend of the prod environment: terraform -chdir=terraform init -backend-config=../environments/prod/backend.hcl
# bucket is created by terraform/bootstrap (state_bucket_prefix + "-prod"); S3 names are global,
# so change both if it is taken. use_lockfile = S3-native locking, no DynamoDB table.
bucket       = "pizza-abc-tfstate-prod"
key          = "pizza/prod/terraform.tfstate"
region       = "us-east-1"
use_lockfile = true
encrypt      = true
