# Inputs of the prod environment for terraform/ (non-secret only: credentials are generated
# by Terraform into Secrets Manager, never written here).
# Use: terraform -chdir=terraform plan -var-file=../environments/prod/terraform.tfvars

environment = "prod"
region      = "us-east-1"
azs         = ["us-east-1a", "us-east-1b", "us-east-1c"]

# github_repository is OWNER/REPO of this code on GitHub: CHANGE IT to your fork before the first apply.
github_repository = "pizza-abc/pizza-abc"

# Images: prod builds nothing; it runs the very digest qa ran and passed, copied from pizza-qa
# (deploy.yml promotes it; the deploy role may read that repository only).
promote_from_environment = "qa"

# Network: one NAT gateway is enough outside prod; prod keeps one per zone.
vpc_cidr           = "10.0.0.0/16"
single_nat_gateway = false

# cluster_admin_arns: IAM roles of the people who run the first apply and administer the cluster
# (e.g. your SSO administrator role). Not secret; the CI role is added by Terraform itself.
# CHANGE IT: empty is refused (the cluster has no creator admin, so nobody could reach it).
cluster_admin_arns = []

# EKS managed node group (one node per zone at least).
node_instance_types = ["m6i.large"]
node_min_size       = 3
node_max_size       = 9
node_desired_size   = 3

# PostgreSQL (RDS).
db_instance_class     = "db.m7g.large"
multi_az              = true
deletion_protection   = true
backup_retention_days = 14

# Public name: prod requires one (CHANGE IT: empty is refused), with the Route 53 zone that holds it.
domain_name       = ""
route53_zone_name = ""

# WAF: requests per client IP per 5 minutes; high, because one IP is often a carrier NAT of
# hundreds of phones (see variables.tf).
waf_rate_limit = 20000

# Scale tier: a read replica for the staff table, the experiment report and the menu.
db_replica_enabled = true

# Disaster recovery (terraform/dr.tf): backups and images replicated to the standby region, which
# environments/prod-eu-north-1/ stands up with a cross-region replica. Set dns_failover = true in both
# once domain_name is set: the public name then fails over between the two ALBs.
peer_region              = "eu-north-1"
dr_backup_retention_days = 7
