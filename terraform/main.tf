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

  # public_host is the one name visitors use: the domain, or (without one) the edge's own
  # cloudfront.net name. CloudFront forwards the viewer's Host header (edge.tf, allViewer), so the
  # app sees that name either way (ALLOWED_HOSTS); visitors always arrive over HTTPS (site_url,
  # CSRF origins). public_scheme is the ALB listener behind it, i.e. what the app itself is told
  # (X-Forwarded-Proto): http without a domain, so the app must not redirect to HTTPS itself.
  public_host   = local.https ? var.domain_name : aws_cloudfront_distribution.web.domain_name
  public_scheme = local.https ? "https" : "http"
}
