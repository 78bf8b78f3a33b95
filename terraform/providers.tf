provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}

# The helm provider talks to the cluster this stack creates, with a short-lived token from the AWS CLI.
provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", var.region]
    }
  }
}

# CloudFront's web ACL and its logs live in us-east-1, whatever region the rest of the stack uses (edge.tf).
provider "aws" {
  alias  = "edge"
  region = "us-east-1"

  default_tags {
    tags = local.tags
  }
}
