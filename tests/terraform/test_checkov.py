"""checkov over terraform/ finds nothing, and every skip sits in one file with its reason."""

from __future__ import annotations

import pytest
import yaml


@pytest.fixture(scope="session")
def checkov_result(terraform_dir, run_checkov):
    return run_checkov(terraform_dir / ".checkov.yaml", "-d", str(terraform_dir))


def test_checkov_finds_nothing(checkov_result):
    output = checkov_result.stdout + checkov_result.stderr
    assert "Passed checks:" in output, output[-3000:]
    assert "Failed checks: 0," in output, output[-6000:]
    assert checkov_result.returncode == 0, output[-3000:]


def test_every_skip_has_its_reason_beside_it(terraform_dir):
    text = (terraform_dir / ".checkov.yaml").read_text()
    skips = yaml.safe_load(text)["skip-check"]
    lines = text.splitlines()
    for check in skips:
        index = next(i for i, line in enumerate(lines) if line.strip() == f"- {check}")
        assert lines[index - 1].strip().startswith("#") and len(lines[index - 1].strip()) > 20, check
    assert len(skips) == len(set(skips))


def test_no_inline_skips(terraform_dir):
    for tf in terraform_dir.rglob("*.tf"):
        assert "checkov:skip" not in tf.read_text(), tf
