"""The Helm releases of one environment: one per variant of environments/<env>/variants.yaml.

This is the same list environments/helmfile.yaml.gotmpl produces, in Python, so the chart tests
render exactly what gets deployed and the deploy workflow can read it without helmfile:

    python -m stack.deploy.releases --env prod --format json

Values are layered like `helm upgrade --install -f environments/<env>/values.yaml --set ...`:
chart/values.yaml (the chart's defaults), then environments/<env>/values.yaml (everything the
environment's releases share), then the per-release `set` built from variants.yaml (variant, theme,
migrations.enabled for the schema owner only, and the target group name Terraform gives it).
The deploy adds what only exists at deploy time, from Terraform's outputs: image.repository,
image.tag, database.host and targetGroupBinding.targetGroupARN.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import yaml

from config.variants import ENVIRONMENTS, load_variants

from .. import REPO_ROOT  # importing the stack package puts app/ on the path


def release_name(variant: str) -> str:
    """pizza-a for variant a: the release, its namespace and (through the chart) its object names."""
    return f"pizza-{variant}"


def target_group_name(env: str, variant: str) -> str:
    """The name Terraform gives the variant's target group on the environment's ALB."""
    return f"pizza-{env}-{variant}"


def deep_merge(base: dict, override: dict) -> dict:
    """Helm's coalescing for plain values: maps merge key by key, anything else is replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def expand_set(flat: dict) -> dict:
    """{"migrations.enabled": True} -> {"migrations": {"enabled": True}}, as `--set` reads it."""
    nested: dict = {}
    for dotted, value in flat.items():
        *parents, leaf = dotted.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return data or {}


def releases(env: str, root: Path | None = None) -> list[dict]:
    """The releases of `env`, schema owner first (it migrates before the others start).

    Each entry: name, namespace, variant, theme, weight, schemaOwner, needs, chart, valuesFiles
    (relative to the repo root), set (the per-release `--set` flags) and values (the three layers
    merged: what Helm will render with, before image.tag and the target group ARN the deploy adds).
    """
    root = root or REPO_ROOT
    variant_set = load_variants(env, root)
    values_file = Path("environments") / env / "values.yaml"
    defaults = read_yaml(root / "chart" / "values.yaml")
    env_values = read_yaml(root / values_file)
    owner = variant_set.schema_owner
    ordered = sorted(variant_set.variants.values(), key=lambda v: (v.name != owner, v.name))
    result = []
    for variant in ordered:
        name = release_name(variant.name)
        is_owner = variant.name == owner
        flags = {
            "variant": variant.name,
            "theme": variant.theme,
            "migrations.enabled": is_owner,
            "targetGroupBinding.targetGroupName": target_group_name(env, variant.name),
        }
        result.append(
            {
                "name": name,
                "namespace": name,
                "variant": variant.name,
                "theme": variant.theme,
                "weight": variant.weight,
                "schemaOwner": is_owner,
                # The others install after the owner, whose pre-upgrade hook migrates first.
                "needs": [] if is_owner else [f"{release_name(owner)}/{release_name(owner)}"],
                "chart": "chart",
                "valuesFiles": [values_file.as_posix()],
                "set": flags,
                "values": deep_merge(deep_merge(defaults, env_values), expand_set(flags)),
            }
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the Helm releases of one environment.")
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--format", choices=("json", "table"), default="json")
    parser.add_argument("--with-values", action="store_true", help="include the merged values of each release")
    args = parser.parse_args(argv)
    items = releases(args.env)
    if args.format == "table":
        for item in items:
            owner = "schema owner" if item["schemaOwner"] else ""
            print(f"{item['name']:10} ns={item['namespace']:10} theme={item['theme']:8} weight={item['weight']:4} {owner}")
        return 0
    if not args.with_values:
        items = [{k: v for k, v in item.items() if k != "values"} for item in items]
    print(json.dumps(items, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
