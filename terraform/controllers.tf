# The two controllers the chart relies on are installed here, with the cluster, so a fresh
# `terraform apply` leaves a cluster the deploy workflow can release into.

resource "helm_release" "aws_load_balancer_controller" {
  name       = "aws-load-balancer-controller"
  namespace  = "kube-system"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = "1.14.0"

  values = [yamlencode({
    clusterName = module.eks.cluster_name
    # Nodes block pods from instance metadata (hop limit 1), so the controller is told where it runs.
    region = var.region
    vpcId  = module.vpc.vpc_id
    serviceAccount = {
      create = true
      name   = "aws-load-balancer-controller"
    }
    # Only TargetGroupBinding is used: no Ingress or Service load balancers are created from the cluster.
    enableServiceMutatorWebhook = false
    replicaCount                = 2
  })]

  depends_on = [aws_eks_pod_identity_association.lb_controller]
}

resource "helm_release" "external_secrets" {
  name             = "external-secrets"
  namespace        = "external-secrets"
  create_namespace = true
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = "0.20.4"

  values = [yamlencode({
    installCRDs = true
    serviceAccount = {
      create = true
      name   = "external-secrets"
    }
  })]

  depends_on = [aws_eks_pod_identity_association.external_secrets]
}

# A small local chart (charts/platform) holds what must exist before the app releases: the
# variants' namespaces, the ClusterSecretStore "aws-secrets-manager" and the deployers' RBAC.
resource "helm_release" "platform" {
  name      = "pizza-platform"
  namespace = "kube-system"
  chart     = "${path.module}/charts/platform"

  values = [yamlencode({
    region     = var.region
    namespaces = local.app_namespaces
  })]

  depends_on = [helm_release.external_secrets, helm_release.aws_load_balancer_controller]
}
