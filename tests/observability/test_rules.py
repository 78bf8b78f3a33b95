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
