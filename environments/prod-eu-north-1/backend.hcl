# S3 backend of prod's standby region, in that region, so the standby can be changed while us-east-1
# is down: terraform -chdir=terraform init -backend-config=../environments/prod-eu-north-1/backend.hcl
# The bucket comes from terraform/bootstrap run with region = "eu-north-1" and
# state_bucket_prefix = "pizza-abc-tfstate-eu-north-1" (S3 names are global).
bucket       = "pizza-abc-tfstate-eu-north-1-prod"
key          = "pizza/prod-eu-north-1/terraform.tfstate"
region       = "eu-north-1"
use_lockfile = true
encrypt      = true
