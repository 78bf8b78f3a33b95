# S3 backend of the dev environment: terraform -chdir=terraform init -backend-config=../environments/dev/backend.hcl
# bucket is created by terraform/bootstrap (state_bucket_prefix + "-dev"); S3 names are global,
# so change both if it is taken. use_lockfile = S3-native locking, no DynamoDB table.
bucket       = "pizza-abc-tfstate-dev"
key          = "pizza/dev/terraform.tfstate"
region       = "us-east-1"
use_lockfile = true
encrypt      = true
