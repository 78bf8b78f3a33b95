# The two controllers the chart relies on are installed here, with the cluster, so a fresh
# `terraform apply` leaves a cluster the deploy workflow can release into.
#
# Order on a first apply: every release waits for the whole EKS module (node group, the add-ons
# CoreDNS and metrics-server, and the access entries that let this apply talk to the cluster);
# a controller's pods have nowhere to run before that, and Helm's wait would time out. The
# platform chart (ClusterSecretStore) waits for External Secrets to be ready: its webhook
# validates the store and answers only once its certificate is in place.
locals {
  # A first install pulls images onto fresh nodes; Helm's default five minutes is too tight.
  controller_timeout_seconds = 900
}

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

  wait    = true
  timeout = local.controller_timeout_seconds

  depends_on = [module.eks, aws_eks_pod_identity_association.lb_controller]
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

  # Ready means the webhook has its certificate (its readiness probe checks it) and the
  # cert-controller has injected the CA, so the platform release's ClusterSecretStore is accepted.
  wait          = true
  wait_for_jobs = true
  timeout       = local.controller_timeout_seconds

  depends_on = [module.eks, aws_eks_pod_identity_association.external_secrets]
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

  wait    = true
  timeout = local.controller_timeout_seconds

  depends_on = [module.eks, helm_release.external_secrets, helm_release.aws_load_balancer_controller]
}
