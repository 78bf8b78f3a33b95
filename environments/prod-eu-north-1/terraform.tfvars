# The standby region of prod (terraform/dr.tf): the same root module and the same prod variants and
# values (environment = "prod"), with a cross-region read replica of us-east-1's database.
# Use: terraform -chdir=terraform init -backend-config=../environments/prod-eu-north-1/backend.hcl
#      terraform -chdir=terraform plan -var-file=../environments/prod-eu-north-1/terraform.tfvars
# Apply it after prod's (the replica's source must exist). Its names carry a "-dr" suffix.

environment = "prod"
region      = "eu-north-1"
azs         = ["eu-north-1a", "eu-north-1b", "eu-north-1c"]
region_role = "standby"
peer_region = "us-east-1"

github_repository = "pizza-abc/pizza-abc"

# Images: the same chain as prod (validated); the standby's images arrive by replication from prod's
# repository (dr.tf), so its deploy role is given no read on qa's repository (iam.tf).
promote_from_environment = "qa"

# A VPC range of its own, so the two regions can be peered later without renumbering.
vpc_cidr           = "10.1.0.0/16"
single_nat_gateway = false

cluster_admin_arns = []

# Warm standby: the pods run (images pulled, readiness known) on fewer nodes; the node group grows to
# prod's size on failover (runbook), which is most of the RTO after the promotion.
node_instance_types = ["m6i.large"]
node_min_size       = 2
node_max_size       = 9
node_desired_size   = 2

# The replica takes prod's class (docs/capacity.md: db.m7g.large, 811 connections for 468 threads)
# because it becomes the primary on failover. rds.tf's own instance in this stack is a placeholder
# the releases never use until rds.tf gains a standby switch; it is kept small.
db_instance_class     = "db.t4g.micro"
dr_db_instance_class  = "db.m7g.large"
multi_az              = false
deletion_protection   = true
backup_retention_days = 14

domain_name       = ""
route53_zone_name = ""

waf_rate_limit = 1000

db_replica_enabled = false
