# Node autoscaling: the Kubernetes cluster-autoscaler grows and shrinks the managed node group
# between node_min_size and node_max_size when pods (scaled by each release's HPA, which reads
# metrics-server) do not fit.
#
# Why cluster-autoscaler and not Karpenter: the managed node group already exists, with its bounds,
# zones and AMI; cluster-autoscaler only moves its desired size (the group's autoscaling tags are
# set by EKS), so the first deploy adds one Helm release and one narrow role. Karpenter provisions
# faster and packs tighter at thousands of pods, but needs its own node role, an interruption
# queue, EventBridge rules and NodePool CRDs: worth it once node churn costs money, not now.

resource "aws_iam_role" "cluster_autoscaler" {
  name               = "${local.name}-cluster-autoscaler"
  description        = "cluster-autoscaler (kube-system/cluster-autoscaler): resizes this cluster's node groups"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
}

data "aws_iam_policy_document" "cluster_autoscaler" {
  statement {
    sid = "Discover"
    actions = [
      "autoscaling:DescribeAutoScalingGroups",
      "autoscaling:DescribeAutoScalingInstances",
      "autoscaling:DescribeLaunchConfigurations",
      "autoscaling:DescribeScalingActivities",
      "autoscaling:DescribeTags",
      "ec2:DescribeImages",
      "ec2:DescribeInstanceTypes",
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:GetInstanceTypesFromInstanceRequirements",
    ]
    # Describe calls have no resource-level permissions.
    resources = ["*"]
  }

  statement {
    sid       = "ReadThisClustersNodeGroups"
    actions   = ["eks:DescribeNodegroup"]
    resources = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:nodegroup/${local.name}/*/*"]
  }

  # Only groups EKS tagged as this cluster's own.
  statement {
    sid = "ResizeThisClustersGroups"
    actions = [
      "autoscaling:SetDesiredCapacity",
      "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    # EKS names a managed node group's Auto Scaling group eks-<node group>-<id>.
    resources = ["arn:${local.partition}:autoscaling:${var.region}:${local.account_id}:autoScalingGroup:*:autoScalingGroupName/eks-*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/k8s.io/cluster-autoscaler/${local.name}"
      values   = ["owned"]
    }
  }
}

resource "aws_iam_role_policy" "cluster_autoscaler" {
  name   = "resize-node-groups"
  role   = aws_iam_role.cluster_autoscaler.id
  policy = data.aws_iam_policy_document.cluster_autoscaler.json
}

resource "aws_eks_pod_identity_association" "cluster_autoscaler" {
  cluster_name    = module.eks.cluster_name
  namespace       = "kube-system"
  service_account = "cluster-autoscaler"
  role_arn        = aws_iam_role.cluster_autoscaler.arn
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  namespace  = "kube-system"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = "9.53.0"

  values = [yamlencode({
    cloudProvider = "aws"
    awsRegion     = var.region
    autoDiscovery = {
      clusterName = module.eks.cluster_name
    }
    # The autoscaler's minor version follows the control plane's.
    image = {
      tag = "v${local.kubernetes_version}.0"
    }
    rbac = {
      serviceAccount = {
        create = true
        name   = "cluster-autoscaler"
      }
    }
    extraArgs = {
      # Spread new nodes over the three zones, as the pods' topology spread asks.
      balance-similar-node-groups = true
      # Pods of the app use an emptyDir for /tmp only: that must not pin a node forever.
      skip-nodes-with-local-storage = false
    }
  })]

  wait    = true
  timeout = local.controller_timeout_seconds

  depends_on = [module.eks, aws_eks_pod_identity_association.cluster_autoscaler]
}
