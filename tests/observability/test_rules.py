"""The alert rules: valid for Prometheus, unit-tested per alert by promtool, each with a runbook section."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "chart" / "files" / "prometheus-rules.yaml"
RULE_TESTS = Path(__file__).with_name("prometheus-rules.test.yaml")
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is missing: install Debian's `prometheus` package (.ci/run does)")
    return found


def alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading (lower case, spaces to dashes, punctuation dropped)."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_promtool_accepts_the_rule_file():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass():
    result = subprocess.run([promtool(), "test", "rules", RULE_TESTS.name], capture_output=True, text=True, cwd=RULE_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test.get("alert_rule_test", [])]
    for rule in alerts():
        own = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in own), f"{rule['alert']}: no unit test where it fires"
        assert any(not case["exp_alerts"] for case in own), f"{rule['alert']}: no unit test where it stays quiet"


def test_every_alert_names_its_variant_and_links_an_existing_runbook_section():
    anchors = {github_anchor(line.lstrip("#")) for line in RUNBOOK.read_text().splitlines() if line.startswith("## ")}
    for rule in alerts():
        notes = rule["annotations"]
        assert "{{ $labels.variant }}" in notes["summary"] and "{{ $labels.variant }}" in notes["description"], rule["alert"]
        assert "variant" in rule["expr"], f"{rule['alert']} must keep the variant label for grouping"
        assert rule["labels"]["severity"] in {"critical", "warning"}
        url, _, anchor = notes["runbook_url"].partition("#")
        assert url == "__RUNBOOK_URL__" and anchor in anchors, f"{rule['alert']}: no section #{anchor} in docs/runbook.md"


def test_the_local_prometheus_is_given_a_config_and_the_shipped_rules_promtool_accepts(tmp_path):
    """What `make up PROMETHEUS=1` and the live metrics test start Prometheus with (stack/local/prometheus.py)."""
    from stack.local.prometheus import RUNBOOK_URL, Prometheus

    server = Prometheus(tmp_path, port=1, targets={"a": [2, 3], "b": [4, 5]}, time_factor=1 / 20)
    config = server.write_config()
    result = subprocess.run([promtool(), "check", "config", str(config)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (rule_file,) = yaml.safe_load(config.read_text())["rule_files"]
    rules = Path(rule_file).read_text()
    assert "__RUNBOOK_URL__" not in rules and f"{RUNBOOK_URL}#pizzaerrorratiohigh" in rules
    # The windows are the shipped ones shortened 20x (the error ratio's 5m range and `for: 5m`: 15s).
    shipped = [rule for rule in alerts() if rule["alert"] == "PizzaErrorRatioHigh"]
    (scaled,) = [g for group in yaml.safe_load(rules)["groups"] for g in group["rules"] if g.get("alert") == "PizzaErrorRatioHigh"]
    assert (shipped[0]["for"], scaled["for"]) == ("5m", "15s") and "[15s]" in scaled["expr"] and "[5m]" not in scaled["expr"]
