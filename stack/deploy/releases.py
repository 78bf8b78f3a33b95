"""The Helm releases of one environment: one per variant of environments/<env>/variants.yaml.

The one place that turns variants.yaml into Helm releases and their arguments: the chart tests
render exactly these values, and every `helm` call that installs, lints or renders a release
(deploy.yml through .github/scripts/roll-release.sh, ci.yml's chart and kind-install jobs) reads
its values files and per-release flags from here:

    python -m stack.deploy.releases --env prod --format json        # the list, for a workflow
    python -m stack.deploy.releases --env prod --format table       # the list, for a person
    python -m stack.deploy.releases --env prod --release pizza-a --format helm-args

`helm-args` prints one release's arguments (-f, --set, --set-string, --set-file), each followed by
a NUL byte, for bash to read into an array whatever a value contains:

    python -m stack.deploy.releases --env dev --release pizza-a --format helm-args > args
    mapfile -d '' -t values < args
    helm upgrade --install pizza-a ./chart --namespace pizza-a "${values[@]}" --set-string image.tag=...

Values are layered like `helm upgrade --install -f environments/<env>/values.yaml --set ...`:
chart/values.yaml (the chart's defaults), then environments/<env>/values.yaml (everything the
environment's releases share), then the per-release `set` built from variants.yaml (variant, theme,
migrations.enabled for the schema owner only, and the target group name Terraform gives it) and
`setFiles` (variantsFile: the environment's variants.yaml, which the pods mount).
The caller adds what only exists at deploy time, from Terraform's outputs and the build:
image.repository, image.tag, database hosts, targetGroupBinding.targetGroupARN, network ranges,
public host (and, for the schema owner after the contract check, migrations.allowContract).
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


def variants_file(env: str) -> Path:
    """environments/<env>/variants.yaml, relative to the repo root."""
    return Path("environments") / env / "variants.yaml"


def read_yaml(path: Path) -> dict:
    # libyaml's parser with the safe constructor: yaml.safe_load's result, several times faster on
    # chart/values.yaml; the pure-Python SafeLoader where PyYAML was built without libyaml.
    data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if path.exists() else None
    return data or {}


def releases(env: str, root: Path | None = None) -> list[dict]:
    """The releases of `env`, schema owner first (it migrates before the others start).

    Each entry: name, namespace, variant, theme, weight, schemaOwner, needs, chart, valuesFiles
    (relative to the repo root), set (the per-release `--set` flags), setFiles (the `--set-file`
    flags: key -> path relative to the repo root) and values (the layers merged: what Helm will
    render with, before what the caller adds at deploy time; see the module docstring).
    """
    root = root or REPO_ROOT
    variant_set = load_variants(env, root)
    values_file = Path("environments") / env / "values.yaml"
    defaults = read_yaml(root / "chart" / "values.yaml")
    env_values = read_yaml(root / values_file)
    files = {"variantsFile": variants_file(env).as_posix()}
    file_values = expand_set({key: (root / path).read_text() for key, path in files.items()})
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
                "setFiles": dict(files),
                "values": deep_merge(deep_merge(deep_merge(defaults, env_values), expand_set(flags)), file_values),
            }
        )
    return result


def helm_escape(text: str) -> str:
    """A value as Helm's --set parser reads it literally: `\\` and `,` escaped, and a leading `{`
    (which would start a list)."""
    escaped = text.replace("\\", "\\\\").replace(",", "\\,")
    return "\\" + escaped if escaped.startswith("{") else escaped


def set_flag(key: str, value: object) -> list[str]:
    """One `set` entry as Helm arguments, typed as in Python: booleans and integers with --set (which
    types them), a float with --set-json (--set would keep it text), text with --set-string."""
    if isinstance(value, bool):
        return ["--set", f"{key}={'true' if value else 'false'}"]
    if isinstance(value, int):
        return ["--set", f"{key}={value}"]
    if isinstance(value, float):
        return ["--set-json", f"{key}={json.dumps(value)}"]
    if isinstance(value, str):
        return ["--set-string", f"{key}={helm_escape(value)}"]
    raise TypeError(f"--set {key}: a {type(value).__name__} has no --set form; use a values file")


def helm_args(release: dict) -> list[str]:
    """The values arguments of one release, for `helm upgrade/lint/template`: its values files in
    order, then its per-release flags. No name, chart or namespace: the caller has those, and adds
    what exists only at deploy time (image, Terraform's outputs) after these."""
    args: list[str] = []
    for path in release["valuesFiles"]:
        args += ["-f", path]
    for key, value in release["set"].items():
        args += set_flag(key, value)
    for key, path in release["setFiles"].items():
        args += ["--set-file", f"{key}={helm_escape(path)}"]
    return args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the Helm releases of one environment, or one release's helm arguments.")
    parser.add_argument("--env", required=True, choices=ENVIRONMENTS)
    parser.add_argument("--format", choices=("json", "table", "helm-args"), default="json")
    parser.add_argument("--release", help="only this release (e.g. pizza-a); required with --format helm-args")
    parser.add_argument("--with-values", action="store_true", help="include the merged values of each release")
    args = parser.parse_args(argv)
    items = releases(args.env)
    if args.release is not None:
        items = [item for item in items if item["name"] == args.release]
        if not items:
            known = ", ".join(item["name"] for item in releases(args.env))
            parser.error(f"environment {args.env} has no release {args.release!r} (its releases: {known})")
    if args.format == "helm-args":
        if args.release is None:
            parser.error("--format helm-args needs --release: the arguments are one release's")
        words = helm_args(items[0])
        if any("\0" in word for word in words):
            parser.error(f"a helm argument of {args.release} contains a NUL byte")
        sys.stdout.write("".join(word + "\0" for word in words))
        return 0
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
