module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = local.name
  kubernetes_version = local.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  # GitHub-hosted runners reach the API over the internet; the node traffic stays private.
  endpoint_public_access       = true
  endpoint_private_access      = true
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  # Cluster admins are named explicitly (the CI role and cluster_admin_arns): a "creator" entry
  # would change hands, and collide, when CI takes over from the person who ran the first apply.
  enable_cluster_creator_admin_permissions = false
  authentication_mode                      = "API"

  # Workloads get AWS access through EKS Pod Identity, so no IRSA OIDC provider is needed.
  enable_irsa = false

  # Named key administrators: the module's default (whoever applies) would flip between people and CI.
  kms_key_administrators = concat([aws_iam_role.apply.arn], var.cluster_admin_arns)

  enabled_log_types                      = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = aws_kms_key.logs.arn

  addons = {
    # The CNI and the Pod Identity agent must run before nodes join, or pods start without them.
    vpc-cni = {
      before_compute = true
      configuration_values = jsonencode({
        enableNetworkPolicy = "true"
      })
    }
    eks-pod-identity-agent = {
      before_compute = true
    }
    coredns    = {}
    kube-proxy = {}
    # The HorizontalPodAutoscaler reads pod CPU from metrics-server; without it no release ever scales.
    metrics-server = {}
    aws-ebs-csi-driver = {
      pod_identity_association = [{
        role_arn        = aws_iam_role.ebs_csi.arn
        service_account = "ebs-csi-controller-sa"
      }]
    }
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = var.node_instance_types

      min_size     = var.node_min_size
      max_size     = var.node_max_size
      desired_size = var.node_desired_size

      # One private subnet per zone, so the group spreads over all three.
      subnet_ids = module.vpc.private_subnets

      iam_role_name            = "${local.name}-node"
      iam_role_use_name_prefix = false
    }
  }

  access_entries = merge(
    {
      for i, arn in var.cluster_admin_arns : "admin_${i}" => {
        principal_arn = arn
        policy_associations = {
          admin = {
            policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = { type = "cluster" }
          }
        }
      }
    },
    {
      # plan reads the Helm releases (their release secrets included); apply installs them.
      plan = {
        principal_arn = aws_iam_role.plan.arn
        policy_associations = {
          view = {
            policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
            access_scope = { type = "cluster" }
          }
        }
      }
      apply = {
        principal_arn = aws_iam_role.apply.arn
        policy_associations = {
          admin = {
            policy_arn   = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            access_scope = { type = "cluster" }
          }
        }
      }
      # The deploy role edits only the variants' namespaces; the platform chart adds the
      # TargetGroupBinding and ExternalSecret rights through the pizza-deployers group.
      deploy = {
        principal_arn     = aws_iam_role.deploy.arn
        kubernetes_groups = ["pizza-deployers"]
        policy_associations = {
          edit = {
            policy_arn = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
            access_scope = {
              type       = "namespace"
              namespaces = local.app_namespaces
            }
          }
        }
      }
  })

  tags = local.tags
}

# ---------------------------------------------------------------------------------------------
# Pod Identity roles: each trusts only the EKS Pod Identity service and is bound to one
# service account by an association below.
# ---------------------------------------------------------------------------------------------

data "aws_iam_policy_document" "pod_identity_trust" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "ebs_csi" {
  name               = "${local.name}-ebs-csi"
  description        = "EBS CSI driver controller (kube-system/ebs-csi-controller-sa)"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.ebs_csi.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

# AWS Load Balancer Controller: Terraform owns the ALB, listeners and target groups, so the
# controller only registers pod IPs in this environment's target groups (TargetGroupBinding).
resource "aws_iam_role" "lb_controller" {
  name               = "${local.name}-aws-load-balancer-controller"
  description        = "AWS Load Balancer Controller (kube-system/aws-load-balancer-controller), TargetGroupBinding only"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
}

data "aws_iam_policy_document" "lb_controller" {
  statement {
    sid = "Discover"
    actions = [
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "elasticloadbalancing:DescribeListeners",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTags",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeTargetHealth",
    ]
    # Describe calls have no resource-level permissions.
    resources = ["*"]
  }

  statement {
    sid = "RegisterPods"
    actions = [
      "elasticloadbalancing:DeregisterTargets",
      "elasticloadbalancing:RegisterTargets",
    ]
    resources = [for tg in aws_lb_target_group.variant : tg.arn]
  }

  statement {
    sid = "OpenNodePortsToTheAlb"
    actions = [
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupIngress",
    ]
    resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:security-group/${module.eks.node_security_group_id}"]
  }
}

resource "aws_iam_role_policy" "lb_controller" {
  name   = "target-group-binding"
  role   = aws_iam_role.lb_controller.id
  policy = data.aws_iam_policy_document.lb_controller.json
}

resource "aws_eks_pod_identity_association" "lb_controller" {
  cluster_name    = module.eks.cluster_name
  namespace       = "kube-system"
  service_account = "aws-load-balancer-controller"
  role_arn        = aws_iam_role.lb_controller.arn
}

# External Secrets: reads this environment's secrets (app and alerting) and nothing else.
resource "aws_iam_role" "external_secrets" {
  name               = "${local.name}-external-secrets"
  description        = "External Secrets operator (external-secrets/external-secrets): reads ${local.secret_path}/* only"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
}

data "aws_iam_policy_document" "external_secrets" {
  statement {
    sid = "ReadAppSecrets"
    actions = [
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:GetSecretValue",
      "secretsmanager:ListSecretVersionIds",
    ]
    resources = [
      aws_secretsmanager_secret.database.arn,
      aws_secretsmanager_secret.database_owner.arn,
      aws_secretsmanager_secret.django.arn,
      aws_secretsmanager_secret.alerting.arn, # Alertmanager's receivers (observability.tf)
      aws_secretsmanager_secret.cache.arn,    # REDIS_URL, when the chart's cache.enabled (cache.tf)
    ]
  }

  statement {
    sid       = "DecryptAppSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "external_secrets" {
  name   = "read-app-secrets"
  role   = aws_iam_role.external_secrets.id
  policy = data.aws_iam_policy_document.external_secrets.json
}

resource "aws_eks_pod_identity_association" "external_secrets" {
  cluster_name    = module.eks.cluster_name
  namespace       = "external-secrets"
  service_account = "external-secrets"
  role_arn        = aws_iam_role.external_secrets.arn
}
