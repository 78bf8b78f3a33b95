"""The chart's observability objects agree with the app and each other: ports, paths, rules, dashboard."""

from __future__ import annotations

import json

import pytest
import yaml

from chart_support import CHART_DIR, MONITORING_API_VERSIONS, render_release
from stack.deploy.releases import releases

RULES = CHART_DIR / "files" / "prometheus-rules.yaml"
DASHBOARD = CHART_DIR / "files" / "grafana-dashboard.json"


@pytest.fixture(scope="module")
def with_operator(chart):
    """Every prod release rendered on a cluster that has the Prometheus operator's CRDs."""
    return [render_release(chart, "prod", spec, api_versions=MONITORING_API_VERSIONS) for spec in releases("prod")]


def test_without_the_operator_nothing_needs_its_crds(chart):
    for spec in releases("prod"):
        kinds = {obj["kind"] for obj in render_release(chart, "prod", spec).objects}
        assert not kinds & {"ServiceMonitor", "PrometheusRule"}


def test_service_monitor_scrapes_the_metrics_listener_of_every_release(with_operator):
    for release in with_operator:
        endpoint = release.one("ServiceMonitor")["spec"]["endpoints"][0]
        service_port = next(p for p in release.one("Service")["spec"]["ports"] if p["name"] == endpoint["port"])
        container = release.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
        container_port = next(p for p in container["ports"] if p["name"] == service_port["targetPort"])
        settings = release.settings()["data"]
        assert endpoint["path"] == "/metrics"
        assert int(settings["METRICS_PORT"]) == container_port["containerPort"] != int(settings["PORT"])


def test_the_load_balancer_never_targets_the_metrics_port(with_operator):
    for release in with_operator:
        binding = release.one("TargetGroupBinding")["spec"]["serviceRef"]["port"]
        port = next(p for p in release.one("Service")["spec"]["ports"] if p["port"] == binding)
        assert port["targetPort"] == "http"


def test_network_policy_admits_the_metrics_port_from_the_scraper_namespace_only(with_operator):
    for release in with_operator:
        metrics_port = release.values.get("metrics", {}).get("port", 9100)
        policy = next(p for p in release.of_kind("NetworkPolicy") if p["metadata"]["name"] == release.name)
        rules = [r for r in policy["spec"]["ingress"] if any(p["port"] == metrics_port for p in r["ports"])]
        assert len(rules) == 1
        assert rules[0]["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]


def test_rules_and_dashboard_ship_once_from_the_schema_owner_with_the_tested_file(with_operator):
    owners = [r for r in with_operator if r.of_kind("PrometheusRule")]
    assert [r.values["variant"] for r in owners] == [r.values["variant"] for r in with_operator if r.values["migrations"]["enabled"]]
    assert len(owners) == 1
    (owner,) = owners
    shipped = owner.one("PrometheusRule")["spec"]["groups"]
    tested = yaml.safe_load(
        RULES.read_text().replace(
            "__RUNBOOK_URL__",
            owner.values.get("prometheusRule", {}).get("runbookUrl", "https://github.com/pizza-abc/pizza-abc/blob/main/docs/runbook.md"),
        )
    )["groups"]
    assert shipped == tested
    assert all(rule["annotations"]["runbook_url"].startswith("https://") for g in shipped for rule in g["rules"] if "alert" in rule)
    dashboards = [c for r in with_operator for c in r.of_kind("ConfigMap") if c["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(dashboards) == 1
    assert json.loads(dashboards[0]["data"]["pizza-abc.json"]) == json.loads(DASHBOARD.read_text())
