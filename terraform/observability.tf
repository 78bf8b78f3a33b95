# ---------------------------------------------------------------------------------------------
# Observability: metrics, alerts and dashboards in the cluster; container logs to CloudWatch.
#
# kube-prometheus-stack rather than Amazon Managed Service for Prometheus: the app chart ships a
# ServiceMonitor, a PrometheusRule and a Grafana sidecar ConfigMap, which the Prometheus operator
# and Grafana read as they are. AMP would need a separate collector, its own rule-group and
# Alertmanager uploads (outside the chart) and Amazon Managed Grafana for the dashboard.
# Logs: the Amazon CloudWatch Observability add-on (Fluent Bit) ships every container's JSON lines
# to CloudWatch Logs, so they outlive the node; the log groups are created here for retention and KMS.
# ---------------------------------------------------------------------------------------------

locals {
  # The namespace the app chart's NetworkPolicy admits to the metrics port (chart value metrics.scraperNamespace).
  monitoring_namespace = "monitoring"
  # The label the app chart puts on its dashboard ConfigMap (chart value grafanaDashboard.label).
  grafana_dashboard_label = "grafana_dashboard"
  # The Kubernetes Secret Alertmanager mounts: keys slack_webhook_url and pagerduty_routing_key.
  alert_receivers = "alertmanager-receivers"
}

# Filled out of band (aws secretsmanager put-secret-value) with the deploy failures' Slack webhook
# and the pager's routing key; Terraform never holds the values, so no secret_version here.
resource "aws_secretsmanager_secret" "alerting" {
  name                    = "${local.secret_path}/alerting"
  description             = "${local.name}: Alertmanager receivers (slack_webhook_url, pagerduty_routing_key), set by hand"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = local.is_prod ? 30 : 7
}

resource "random_password" "grafana_admin" {
  length  = 32
  special = false
}

resource "helm_release" "kube_prometheus_stack" {
  name             = "kube-prometheus-stack"
  namespace        = local.monitoring_namespace
  create_namespace = true
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = "75.8.1"

  values = [templatefile("${path.module}/observability/kube-prometheus-stack.yaml.tftpl", {
    namespace           = local.monitoring_namespace
    metrics_retention   = var.metrics_retention
    receivers_secret    = local.alert_receivers
    receivers_secret_id = aws_secretsmanager_secret.alerting.name
    dashboard_label     = local.grafana_dashboard_label
  })]

  set_sensitive = [{
    name  = "grafana.adminPassword"
    value = random_password.grafana_admin.result
  }]

  # Like every cluster release: after the nodes and CoreDNS (the whole EKS module), with time for fresh nodes.
  wait    = true
  timeout = local.controller_timeout_seconds

  depends_on = [module.eks, helm_release.external_secrets, helm_release.platform]
}

# The ALB answers /metrics itself: the app never serves it on the public port, and this keeps the
# path from reaching any pod even if that changed.
resource "aws_lb_listener_rule" "metrics_denied" {
  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  priority     = 10

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }

  condition {
    path_pattern {
      values = ["/metrics", "/metrics/*"]
    }
  }
}

# The add-on's Fluent Bit writes here; created first so retention and encryption are ours.
resource "aws_cloudwatch_log_group" "containers" {
  for_each = toset(["application", "dataplane", "host"])

  name              = "/aws/containerinsights/${module.eks.cluster_name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_iam_role" "cloudwatch_agent" {
  name               = "${local.name}-cloudwatch-agent"
  description        = "CloudWatch Observability add-on (amazon-cloudwatch/cloudwatch-agent): ships container logs and metrics"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
}

resource "aws_iam_role_policy_attachment" "cloudwatch_agent" {
  role       = aws_iam_role.cloudwatch_agent.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/CloudWatchAgentServerPolicy"
}

resource "aws_eks_addon" "cloudwatch_observability" {
  cluster_name = module.eks.cluster_name
  addon_name   = "amazon-cloudwatch-observability"

  pod_identity_association {
    role_arn        = aws_iam_role.cloudwatch_agent.arn
    service_account = "cloudwatch-agent"
  }

  configuration_values = jsonencode({
    containerLogs = { enabled = true }
  })

  depends_on = [aws_cloudwatch_log_group.containers, aws_iam_role_policy_attachment.cloudwatch_agent]
}
