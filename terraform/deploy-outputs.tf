# The deploy workflow needs a few outputs but must not read the state (it holds the generated
# credentials). They are published here, non-secret, in the shape of `terraform output -json`,
# so `aws ssm get-parameter --with-decryption --name /pizza/<env>/deploy-outputs --query Parameter.Value --output text`
# can replace `terraform output -json` without changing the jq that reads it.
resource "aws_ssm_parameter" "deploy_outputs" {
  name        = "/${local.secret_path}/deploy-outputs"
  description = "${local.name}: non-secret outputs the deploy workflow reads"
  type        = "SecureString"
  key_id      = aws_kms_key.ecr.arn # the deploy's key: it already decrypts the images with it
  value = jsonencode({
    region                = { value = var.region }
    cluster_name          = { value = module.eks.cluster_name }
    ecr_repository_url    = { value = aws_ecr_repository.app.repository_url }
    target_group_arns     = { value = { for name, tg in aws_lb_target_group.variant : name => tg.arn } }
    database_host         = { value = aws_db_instance.orders.address }
    alb_dns_name          = { value = aws_lb.web.dns_name }
    alb_security_group_id = { value = aws_security_group.alb.id }
    alb_subnet_cidrs      = { value = module.vpc.public_subnets_cidr_blocks }
    database_subnet_cidrs = { value = module.vpc.database_subnets_cidr_blocks }
    public_host           = { value = local.public_host }
    public_scheme         = { value = local.public_scheme }
    site_url              = { value = "https://${local.public_host}" }
    # The scale tier (issue 13): the web pods go through RDS Proxy (pooled), the migration hook
    # straight to the instance (database_host); the replica is empty where none exists; the cache
    # sits in the subnets of its subnet group (cache.tf), the pods' only way out on 6379.
    database_proxy_host   = { value = aws_db_proxy.web.endpoint }
    database_replica_host = { value = var.db_replica_enabled ? aws_db_instance.replica[0].address : "" }
    cache_subnet_cidrs    = { value = module.vpc.database_subnets_cidr_blocks }
    # Build once, promote the digest (ecr.tf): dev builds (both empty); qa and prod copy from here.
    promote_from_environment    = { value = var.promote_from_environment }
    promote_from_repository_url = { value = local.promote_from_repository_url }
  })
}
