"""terraform/observability.tf agrees with the app chart and keeps the alerting secret out of the repository."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

TEMPLATE = "observability/kube-prometheus-stack.yaml.tftpl"


def kps_values(terraform_dir, main_stack) -> tuple[dict, dict]:
    """The kube-prometheus-stack values as Terraform renders them (templatefile's ${name} filled in)."""
    release = main_stack.resource("helm_release", "kube_prometheus_stack")
    local = main_stack.locals
    args = {
        "namespace": local["monitoring_namespace"],
        "metrics_retention": main_stack.variables["metrics_retention"]["default"],
        "receivers_secret": local["alert_receivers"],
        "receivers_secret_id": "pizza/dev/alerting",
        "dashboard_label": local["grafana_dashboard_label"],
    }
    text = (terraform_dir / TEMPLATE).read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(args), "template placeholders and templatefile() arguments differ"
    assert TEMPLATE in release["values"][0]
    for name, value in args.items():
        text = text.replace("${" + name + "}", str(value))
    return yaml.safe_load(text), args


def chart_values(repo_root) -> dict:
    return yaml.safe_load((repo_root / "chart" / "values.yaml").read_text())


def test_the_scraper_runs_where_the_chart_admits_it_and_selects_the_charts_objects(terraform_dir, main_stack, repo_root):
    values, args = kps_values(terraform_dir, main_stack)
    chart = chart_values(repo_root)
    assert main_stack.resource("helm_release", "kube_prometheus_stack")["namespace"] == "${local.monitoring_namespace}"
    assert args["namespace"] == chart["metrics"]["scraperNamespace"]
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is False and spec["ruleSelectorNilUsesHelmValues"] is False
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], sidecar["labelValue"]) == (chart["grafanaDashboard"]["label"], "1")
    assert sidecar["searchNamespace"] == "ALL"


def test_alerts_are_grouped_by_variant_and_critical_ones_page_and_reach_slack(terraform_dir, main_stack):
    config = kps_values(terraform_dir, main_stack)[0]["alertmanager"]["config"]
    route = config["route"]
    assert "variant" in route["group_by"] and route["receiver"] == "slack"
    pager = next(r for r in route["routes"] if r["receiver"] == "pager")
    assert pager["matchers"] == ['severity = "critical"'] and pager["continue"] is True
    assert route["routes"][-1] == {"receiver": "slack"}  # after the pager, everything (critical too) reaches Slack
    receivers = {r["name"]: r for r in config["receivers"]}
    assert set(receivers) == {"null", "slack", "pager"}


def test_receiver_credentials_come_from_the_mounted_secret_only(terraform_dir, main_stack, repo_root):
    values, args = kps_values(terraform_dir, main_stack)
    mount = f"/etc/alertmanager/secrets/{args['receivers_secret']}/"
    assert values["alertmanager"]["alertmanagerSpec"]["secrets"] == [args["receivers_secret"]]
    config = values["alertmanager"]["config"]
    assert config["global"]["slack_api_url_file"].startswith(mount)
    pager = next(r for r in config["receivers"] if r["name"] == "pager")["pagerduty_configs"][0]
    assert pager["routing_key_file"].startswith(mount) and "routing_key" not in pager
    external = values["extraManifests"][0]
    assert external["kind"] == "ExternalSecret" and external["spec"]["target"]["name"] == args["receivers_secret"]
    secret = main_stack.resource("aws_secretsmanager_secret", "alerting")
    assert ("aws_secretsmanager_secret_version", "alerting") not in main_stack.resources  # values set out of band
    assert secret["name"].endswith("/alerting")
    tracked = subprocess.run(
        ["git", "grep", "-l", "-I", "-E", r"hooks\.slack\.com/services/|events\.pagerduty\.com/.+/[0-9a-f]{32}"],
        capture_output=True,
        text=True,
        cwd=repo_root,
    )
    assert tracked.stdout == "", f"a webhook URL is committed: {tracked.stdout}"


def test_external_secrets_may_read_the_alerting_secret(terraform_dir):
    eks = (terraform_dir / "eks.tf").read_text()
    policy = eks[eks.index('data "aws_iam_policy_document" "external_secrets"') :]
    assert "aws_secretsmanager_secret.alerting.arn" in policy[: policy.index("\n}\n")]


def test_alb_refuses_metrics_before_the_split(main_stack):
    denied = main_stack.resource("aws_lb_listener_rule", "metrics_denied")
    split = main_stack.resource("aws_lb_listener_rule", "split")
    assert denied["priority"] < split["priority"] and denied["listener_arn"] == split["listener_arn"]
    assert denied["action"][0]["type"] == "fixed-response"
    assert "/metrics" in denied["condition"][0]["path_pattern"][0]["values"]


def test_container_logs_are_shipped_with_retention(main_stack):
    addon = main_stack.resource("aws_eks_addon", "cloudwatch_observability")
    assert addon["addon_name"] == "amazon-cloudwatch-observability"
    groups = main_stack.resource("aws_cloudwatch_log_group", "containers")
    assert "application" in groups["for_each"] and groups["retention_in_days"] == "${var.log_retention_days}"
    assert groups["kms_key_id"] == "${aws_kms_key.logs.arn}"


def test_amtool_accepts_the_alertmanager_config_and_routes_as_intended(terraform_dir, main_stack, tmp_path):
    """Debian's amtool (prometheus-alertmanager) loads the config and answers which receivers get what."""
    amtool = shutil.which("amtool")
    if not amtool:
        pytest.fail("amtool is missing: install Debian's `prometheus-alertmanager` package (.ci/run does)")
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(kps_values(terraform_dir, main_stack)[0]["alertmanager"]["config"]))
    checked = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    def receivers(*labels: str) -> str:
        routed = subprocess.run([amtool, "config", "routes", "test", f"--config.file={config}", *labels], capture_output=True, text=True)
        return routed.stdout.strip()

    assert receivers("alertname=PizzaErrorRatioHigh", "severity=critical", "variant=c") == "pager,slack"
    assert receivers("alertname=PizzaSampleRatioMismatch", "severity=warning", "variant=b") == "slack"
    assert receivers("alertname=Watchdog", "severity=none") == "null"
