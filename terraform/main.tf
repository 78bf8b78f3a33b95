data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name = "pizza-${var.environment}${var.region_role == "standby" ? "-dr" : ""}" # dr.tf: IAM and S3 names are global

  # Kubernetes minor version of the control plane and node group; an upgrade is a reviewed code change.
  kubernetes_version = "1.33"

  tags = {
    Project     = "pizza-abc"
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  # The one definition of the variants, shared with the Helm releases and the local stack.
  variants_file      = yamldecode(file("${path.module}/../environments/${var.environment}/variants.yaml"))
  variants           = local.variants_file.variants
  stickiness_seconds = try(local.variants_file.stickinessSeconds, 86400)

  # App pods run in one namespace per variant, each with a service account of the same name.
  app_namespaces = [for name in keys(local.variants) : "pizza-${name}"]

  https       = var.domain_name != ""
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  is_prod     = var.environment == "prod"
  secret_path = "pizza/${var.environment}"

  # public_host is the one name the site answers on: the domain, or (without one) the ALB's own DNS
  # name over plain HTTP. The deploy hands both to the chart (ALLOWED_HOSTS, CSRF origins, redirect).
  public_host   = local.https ? var.domain_name : aws_lb.web.dns_name
  public_scheme = local.https ? "https" : "http"
}
