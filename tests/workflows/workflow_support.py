"""Helpers for the workflow tests: the parsed workflow files and the release list per environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from config.variants import load_variants

REPO_ROOT = Path(__file__).resolve().parents[2]
GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOWS_DIR = GITHUB_DIR / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml"))
SCRIPTS_DIR = GITHUB_DIR / "scripts"
VENV_BIN = Path(sys.executable).parent


def load_workflow(name: str) -> dict:
    data = yaml.load((WORKFLOWS_DIR / name).read_text(), Loader=yaml.CSafeLoader)
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1); put it back under "on".
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_text(job: dict) -> str:
    """Every run script and `with:` value of a job, as one string to search."""
    parts = []
    for step in job.get("steps", []):
        parts.append(step.get("run", ""))
        parts.extend(str(v) for v in (step.get("with") or {}).values())
    return "\n".join(parts)


def stack_releases(env: str) -> list[dict]:
    """What the deploy workflow's `releases` job computes: `python -m stack.deploy.releases --env <env>`."""
    out = subprocess.run(
        [sys.executable, "-m", "stack.deploy.releases", "--env", env, "--format", "json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def expected_releases(env: str) -> list[tuple[str, str, str, bool]]:
    """(name, namespace, theme, schema owner) per variant, schema owner first, from variants.yaml."""
    variant_set = load_variants(env)
    owner = variant_set.schema_owner
    ordered = sorted(variant_set.variants.values(), key=lambda v: (v.name != owner, v.name))
    return [(f"pizza-{v.name}", f"pizza-{v.name}", v.theme, v.name == owner) for v in ordered]
