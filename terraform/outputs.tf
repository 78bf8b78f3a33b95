output "region" {
  description = "AWS region of this environment."
  value       = var.region
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "ecr_repository_url" {
  description = "ECR repository URL the deploy pushes the app image to."
  value       = aws_ecr_repository.app.repository_url
}

output "target_group_arns" {
  description = "Target group ARN per variant, for each release's TargetGroupBinding."
  value       = { for name, tg in aws_lb_target_group.variant : name => tg.arn }
}

output "database_secret_arn" {
  description = "ARN of the Secrets Manager secret pizza/<env>/database (JSON: username, password, host, port, dbname, engine)."
  value       = aws_secretsmanager_secret.database.arn
}

output "django_secret_arn" {
  description = "ARN of the Secrets Manager secret pizza/<env>/django (JSON: SECRET_KEY)."
  value       = aws_secretsmanager_secret.django.arn
}

output "database_host" {
  description = "Host name of the PostgreSQL instance (reachable from the cluster only)."
  value       = aws_db_instance.orders.address
}

output "plan_role_arn" {
  description = "IAM role (read-only) the infrastructure workflow's plan job assumes."
  value       = aws_iam_role.plan.arn
}

output "deploy_role_arn" {
  description = "IAM role the deploy workflow assumes to push images and roll the Helm releases."
  value       = aws_iam_role.deploy.arn
}

output "alb_dns_name" {
  description = "DNS name of the shared ALB (point the domain here when Route 53 is not used)."
  value       = aws_lb.web.dns_name
}

output "site_url" {
  description = "Where visitors reach the shop: always HTTPS (the domain's listener, or the edge's cloudfront.net name)."
  value       = "https://${local.public_host}"
}

output "apply_role_arn" {
  description = "IAM role the infrastructure workflow's approved apply/destroy job assumes."
  value       = aws_iam_role.apply.arn
}

output "deploy_outputs_parameter" {
  description = "SSM parameter holding the deploy's outputs as `terraform output -json` would print them."
  value       = aws_ssm_parameter.deploy_outputs.name
}

output "alb_security_group_id" {
  description = "Security group of the shared ALB (the chart's targetGroupBinding.albSecurityGroupId)."
  value       = aws_security_group.alb.id
}

output "alb_subnet_cidrs" {
  description = "CIDR blocks the ALB sends from (public subnets), for the app's NetworkPolicy ingress rule."
  value       = module.vpc.public_subnets_cidr_blocks
}

# --- Scale tier (rds-proxy.tf, replica.tf, cache.tf, edge.tf) ---

output "database_proxy_host" {
  description = "RDS Proxy endpoint the web pods use (chart database.host, with database.pooled=true)."
  value       = aws_db_proxy.web.endpoint
}

output "database_replica_host" {
  description = "Read replica endpoint (chart database.replicaHost); empty where no replica exists."
  value       = var.db_replica_enabled ? aws_db_instance.replica[0].address : ""
}

output "cache_secret_name" {
  description = "Secrets Manager secret holding REDIS_URL (chart cache.key)."
  value       = aws_secretsmanager_secret.cache.name
}

output "edge_domain_name" {
  description = "CloudFront domain name in front of the ALB (point the public DNS name at it)."
  value       = aws_cloudfront_distribution.web.domain_name
}

# --- deploy inputs (issue 12): what the deploy hands the chart, besides the SSM copy -------------

output "database_subnet_cidrs" {
  description = "CIDR blocks of the database subnets, for the app's NetworkPolicy egress rule (port 5432)."
  value       = module.vpc.database_subnets_cidr_blocks
}

output "public_host" {
  description = "The host name visitors use: domain_name, or the CloudFront domain name when there is none (ALLOWED_HOSTS)."
  value       = local.public_host
}

output "public_scheme" {
  description = "https when a domain (and so a 443 listener) exists, else http (the chart's publicScheme)."
  value       = local.public_scheme
}

output "database_owner_secret_arn" {
  description = "ARN of the Secrets Manager secret pizza/<env>/database-owner (the RDS master user; the migration job only)."
  value       = aws_secretsmanager_secret.database_owner.arn
}

output "cache_subnet_cidrs" {
  description = "CIDR blocks of the cache's subnets (cache.tf's subnet group), for the app's NetworkPolicy egress to 6379."
  value       = module.vpc.database_subnets_cidr_blocks
}

# --- promotion (issue 12): build once in dev, promote the same digest dev -> qa -> prod ---------

output "promote_from_environment" {
  description = "The environment whose image this one runs (\"\" in dev, which builds; \"dev\" in qa; \"qa\" in prod)."
  value       = var.promote_from_environment
}

output "promote_from_repository_url" {
  description = "ECR repository URL the deploy copies this environment's image from, by digest; empty where nothing is promoted (dev, the standby region)."
  value       = local.promote_from_repository_url
}
