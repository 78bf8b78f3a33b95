# Inputs of the dev environment for terraform/ (non-secret only: credentials are generated
# by Terraform into Secrets Manager, never written here).
# Use: terraform -chdir=terraform plan -var-file=../environments/dev/terraform.tfvars

environment = "dev"
region      = "us-east-1"
azs         = ["us-east-1a", "us-east-1b", "us-east-1c"]

# github_repository is OWNER/REPO of this code on GitHub: CHANGE IT to your fork before the first apply.
github_repository = "pizza-abc/pizza-abc"

# Images: dev is the only environment that builds one (deploy.yml, on a push to main); qa and prod
# run the digest the environment before them ran and passed (promote_from_environment, see variables.tf).
promote_from_environment = ""

# Network: one NAT gateway is enough outside prod; prod keeps one per zone.
vpc_cidr           = "10.0.0.0/16"
single_nat_gateway = true

# cluster_admin_arns: IAM roles of the people who run the first apply and administer the cluster
# (e.g. your SSO administrator role). Not secret; the CI role is added by Terraform itself.
# CHANGE IT: empty is refused (the cluster has no creator admin, so nobody could reach it).
cluster_admin_arns = []

# EKS managed node group (one node per zone at least).
node_instance_types = ["t3.large"]
node_min_size       = 3
node_max_size       = 4
node_desired_size   = 3

# PostgreSQL (RDS).
db_instance_class     = "db.t4g.medium"
multi_az              = false
deletion_protection   = false
backup_retention_days = 7

# Public name: leave empty to serve plain HTTP on the ALB's DNS name (the deploy then sets
# ALLOWED_HOSTS to it and turns the HTTPS redirect off); set both to get HTTPS.
domain_name       = ""
route53_zone_name = ""

# WAF: requests per client IP per 5 minutes; high, because one IP is often a carrier NAT of
# hundreds of phones (see variables.tf).
waf_rate_limit = 20000
