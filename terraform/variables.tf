# ---------------------------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------------------------

variable "environment" {
  description = "Environment to build: dev, qa or prod. Picks environments/<environment>/variants.yaml."
  type        = string

  validation {
    condition     = contains(["dev", "qa", "prod"], var.environment)
    error_message = "environment must be one of dev, qa, prod."
  }
}

variable "region" {
  description = "AWS region of every resource in this environment."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (OWNER/REPO) whose workflows may assume the plan, apply and deploy roles."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like OWNER/REPO, without wildcards."
  }

  # The shipped tfvars hold a placeholder: the roles would trust a repository that is not yours.
  validation {
    condition     = lower(var.github_repository) != "pizza-abc/pizza-abc"
    error_message = "github_repository is still the placeholder pizza-abc/pizza-abc: set it in environments/<env>/terraform.tfvars to the OWNER/REPO of your fork, or GitHub's OIDC tokens will never match the roles' trust policies."
  }
}

# Build once, promote the same digest: only dev builds an image; qa runs the digest dev ran, prod the
# one qa ran (deploy.yml copies it from that environment's repository and checks it passed there).
variable "promote_from_environment" {
  description = "The environment whose repository this one takes its images from: \"\" for dev (the only one that builds), \"dev\" for qa, \"qa\" for prod."
  type        = string

  validation {
    condition     = var.promote_from_environment == lookup({ dev = "", qa = "dev", prod = "qa" }, var.environment, "?")
    error_message = "promote_from_environment must name the environment before this one: \"\" in dev (the only environment that builds an image), \"dev\" in qa, \"qa\" in prod, so prod runs the very digest qa tested. Set it in environments/<env>/terraform.tfvars."
  }
}

# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC; public, private and database subnets are carved out of it."
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "The three availability zones the VPC, the node group and the database span."
  type        = list(string)

  validation {
    condition     = length(var.azs) == 3
    error_message = "azs must list exactly three availability zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the whole VPC (cheaper) instead of one per zone (survives a zone outage)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Days to keep CloudWatch logs (VPC flow logs, EKS control plane, WAF, RDS)."
  type        = number
  default     = 365
}

# ---------------------------------------------------------------------------------------------
# EKS
# ---------------------------------------------------------------------------------------------

variable "cluster_admin_arns" {
  description = "IAM role ARNs of people who administer the cluster (and run the first apply, before CI exists)."
  type        = list(string)
  default     = []

  # API-only authentication and no creator admin: without a named admin, the first apply's own
  # helm_release resources (and every human) get Unauthorized from the cluster it just made.
  validation {
    condition     = length(var.cluster_admin_arns) > 0
    error_message = "cluster_admin_arns is empty: set it in environments/<env>/terraform.tfvars to the IAM role ARN(s) of whoever runs the first apply, e.g. [\"arn:aws:iam::123456789012:role/AWSReservedSSO_AdministratorAccess_0123456789abcdef\"] (aws sts get-caller-identity shows yours)."
  }

  validation {
    condition     = alltrue([for arn in var.cluster_admin_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+", arn))])
    error_message = "cluster_admin_arns must be IAM role ARNs (arn:aws:iam::<account id>:role/<name>); for an SSO session use the role, not the assumed-role session ARN."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public Kubernetes API endpoint (GitHub-hosted runners need it)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "node_instance_types" {
  description = "EC2 instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Smallest number of nodes; 3 keeps one node in each zone."
  type        = number
  default     = 3
}

variable "node_max_size" {
  description = "Largest number of nodes the node group may scale to."
  type        = number
  default     = 6
}

variable "node_desired_size" {
  description = "Number of nodes at creation (the module ignores later changes so autoscaling owns it)."
  type        = number
  default     = 3
}

# ---------------------------------------------------------------------------------------------
# Database
# ---------------------------------------------------------------------------------------------

variable "db_engine_version" {
  description = "PostgreSQL major version; minor versions are upgraded in the maintenance window."
  type        = string
  default     = "17"
}

variable "db_instance_class" {
  description = "RDS instance class of the shared PostgreSQL database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage" {
  description = "Initial storage of the database, in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Upper bound for storage autoscaling, in GiB."
  type        = number
  default     = 100
}

variable "multi_az" {
  description = "Run a synchronous standby in a second zone (required in prod)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the database and the load balancer, and keep a final snapshot (required in prod)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated database backups (point-in-time recovery window)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be from 7 to 35."
  }
}

# ---------------------------------------------------------------------------------------------
# Load balancer and WAF
# ---------------------------------------------------------------------------------------------

variable "domain_name" {
  description = "Public host name of the shop (e.g. shop.example.com). Empty: no certificate, the ALB serves plain HTTP on its own DNS name (dev and qa only)."
  type        = string
  default     = ""

  # Customers type names, phones and addresses: prod is never served over plain HTTP.
  validation {
    condition     = var.environment != "prod" || var.domain_name != ""
    error_message = "domain_name is empty, but prod serves customers only over HTTPS: set domain_name (and route53_zone_name, the hosted zone holding it) in environments/prod/terraform.tfvars."
  }

  validation {
    condition     = var.domain_name == "" || var.route53_zone_name != ""
    error_message = "domain_name is set but route53_zone_name is empty: set the Route 53 hosted zone that holds it, for the certificate and the alias record."
  }
}

variable "route53_zone_name" {
  description = "Route 53 public hosted zone holding domain_name, for certificate validation and the alias record."
  type        = string
  default     = ""

  validation {
    condition     = var.route53_zone_name == "" || can(regex("^[a-z0-9.-]+$", var.route53_zone_name))
    error_message = "route53_zone_name must be a DNS name such as example.com."
  }
}

variable "waf_rate_limit" {
  description = "Requests one client IP may send in any 5 minutes before the WAF blocks it."
  type        = number
  default     = 20000

  # One IP is often a whole carrier-grade NAT or office: hundreds of phones. A visit is ~20 requests
  # (page, static files, order, status polls), so 20,000 per 5 minutes is ~1,000 visits per IP:
  # it stops a flood from one source without turning away a busy mobile network.
  validation {
    condition     = var.waf_rate_limit >= 5000
    error_message = "waf_rate_limit must be at least 5000: an IP address is often a carrier NAT shared by hundreds of phones."
  }
}

# ---------------------------------------------------------------------------------------------
# Observability (observability.tf)
# ---------------------------------------------------------------------------------------------

variable "metrics_retention" {
  description = "How long the in-cluster Prometheus keeps metrics (Prometheus duration, e.g. 15d)."
  type        = string
  default     = "15d"

  validation {
    condition     = can(regex("^[0-9]+(h|d|w)$", var.metrics_retention))
    error_message = "metrics_retention must be a Prometheus duration in hours, days or weeks, e.g. 15d."
  }
}

# --- Scale tier: pool, replica, cache, edge (rds-proxy.tf, replica.tf, cache.tf, edge.tf) ---

variable "db_proxy_max_connections_percent" {
  type        = number
  description = "Share of the database's max_connections RDS Proxy may open; the rest is for migrations and operators (tests/scale check the budget)."
  default     = 75

  validation {
    condition     = var.db_proxy_max_connections_percent >= 10 && var.db_proxy_max_connections_percent <= 90
    error_message = "db_proxy_max_connections_percent must be 10-90: leave room for the migration Job and RDS's reserved connections."
  }
}

variable "db_replica_enabled" {
  type        = bool
  description = "Create a read replica for the stale-tolerant reads (staff table, experiment report, menu)."
  default     = false
}

variable "db_replica_instance_class" {
  type        = string
  description = "Instance class of the read replica; empty means the primary's db_instance_class."
  default     = ""
}

variable "cache_node_type" {
  type        = string
  description = "ElastiCache (Valkey) node type of the shared cache."
  default     = "cache.t4g.small"
}

variable "edge_certificate_arn" {
  type        = string
  description = "ACM certificate in us-east-1 for domain_name on CloudFront. Set: the edge serves domain_name and the Route 53 record points at it; empty: the edge serves its cloudfront.net name and domain_name (if any) points at the ALB."
  default     = ""

  validation {
    condition     = var.edge_certificate_arn == "" || var.domain_name != ""
    error_message = "edge_certificate_arn is set but domain_name is empty: the edge certificate is for domain_name; set both or neither."
  }
}

variable "edge_api_rate_limit" {
  type        = number
  description = "Requests per client IP per 5 minutes to /api/ at the edge (the mobile API's own limit)."
  default     = 600
}

# --- Disaster recovery (dr.tf) -------------------------------------------------------------------------

variable "region_role" {
  description = "primary: the stack that serves; standby: the second region's copy of the same environment (environments/<env>-<region>/), with a cross-region replica of the primary's database."
  type        = string
  default     = "primary"

  validation {
    condition     = contains(["primary", "standby"], var.region_role)
    error_message = "region_role must be primary or standby."
  }
}

variable "peer_region" {
  description = "The other region of the pair (the standby's region on the primary side, the primary's on the standby side); empty means one region, no DR resources."
  type        = string
  default     = ""
}

variable "dr_backup_retention_days" {
  description = "Days of automated backups kept in peer_region (point-in-time restore there)."
  type        = number
  default     = 7

  validation {
    condition     = var.dr_backup_retention_days >= 1 && var.dr_backup_retention_days <= 35
    error_message = "dr_backup_retention_days must be from 1 to 35."
  }
}

variable "dr_db_instance_class" {
  description = "Instance class of the standby's cross-region replica; empty means db_instance_class (it becomes the primary on failover)."
  type        = string
  default     = ""
}

variable "dr_max_lag_seconds" {
  description = "Cross-region replica lag (seconds) above which the standby alarm fires: the data a failover would lose."
  type        = number
  default     = 60
}

variable "dr_promoted" {
  description = "Standby side only: true once the runbook has promoted the cross-region replica (it no longer replicates from peer_region)."
  type        = bool
  default     = false
}

variable "dns_failover" {
  description = "Serve domain_name as Route 53 failover records (PRIMARY/SECONDARY, health-checked on each ALB) instead of one alias record; set in both regions' tfvars."
  type        = bool
  default     = false

  # Failover records point at each region's ALB. With the edge serving domain_name, only one CloudFront
  # distribution may hold that name, so the records would bypass the edge (and its WAF) in both regions.
  validation {
    condition     = !(var.dns_failover && var.edge_certificate_arn != "")
    error_message = "dns_failover and edge_certificate_arn cannot both be set: failover records point at the two ALBs, bypassing the edge, and only one CloudFront distribution may hold domain_name. Fail over inside CloudFront (an origin group over both ALBs) instead, or leave edge_certificate_arn empty."
  }
}
