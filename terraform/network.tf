module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 6.0"

  name = local.name
  cidr = var.vpc_cidr
  azs  = var.azs

  # /20 private subnets leave room for one IP per pod (VPC CNI); public and database subnets stay small.
  private_subnets  = [for i, _ in var.azs : cidrsubnet(var.vpc_cidr, 4, i)]
  public_subnets   = [for i, _ in var.azs : cidrsubnet(var.vpc_cidr, 8, i + 48)]
  database_subnets = [for i, _ in var.azs : cidrsubnet(var.vpc_cidr, 8, i + 52)]

  create_database_subnet_group       = true
  create_database_subnet_route_table = true

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway

  enable_dns_hostnames = true
  enable_dns_support   = true

  # The AWS Load Balancer Controller finds subnets by these tags.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = 1
  }

  manage_default_security_group  = true
  default_security_group_egress  = []
  default_security_group_ingress = []

  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days
  flow_log_cloudwatch_log_group_kms_key_id        = aws_kms_key.logs.arn
  vpc_flow_log_iam_role_name                      = "${local.name}-vpc-flow-log"
  vpc_flow_log_iam_policy_name                    = "${local.name}-vpc-flow-log"

  tags = local.tags
}
