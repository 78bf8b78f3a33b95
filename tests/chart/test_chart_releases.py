"""The release list (stack/deploy/releases.py, and the helmfile that mirrors it) follows variants.yaml."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from stack.deploy.releases import deep_merge, expand_set, releases

LISTED_KEYS = {"name", "namespace", "variant", "theme", "weight", "schemaOwner", "needs", "chart", "valuesFiles", "set"}


def test_one_release_per_variant_in_its_own_namespace(env_name, variant_sets):
    variant_set = variant_sets[env_name]
    listed = releases(env_name)
    assert {r["variant"]: (r["theme"], r["weight"]) for r in listed} == {
        name: (v.theme, v.weight) for name, v in variant_set.variants.items()
    }
    for release in listed:
        assert release["name"] == release["namespace"] == f"pizza-{release['variant']}"
        assert release["set"]["variant"] == release["variant"] and release["set"]["theme"] == release["theme"]
        assert release["set"]["targetGroupBinding.targetGroupName"] == f"pizza-{env_name}-{release['variant']}"


def test_exactly_one_schema_owner_and_it_goes_first(env_name, variant_sets):
    listed = releases(env_name)
    owners = [r["variant"] for r in listed if r["schemaOwner"]]
    assert owners == [variant_sets[env_name].schema_owner]
    assert listed[0]["schemaOwner"] and listed[0]["needs"] == []
    assert [r["set"]["migrations.enabled"] for r in listed] == [r["schemaOwner"] for r in listed]


def test_values_layer_chart_defaults_then_environment_then_release(env_name, repo_root):
    defaults = yaml.safe_load((repo_root / "chart" / "values.yaml").read_text())
    for release in releases(env_name):
        (values_file,) = release["valuesFiles"]
        env_values = yaml.safe_load((repo_root / values_file).read_text())
        assert release["values"] == deep_merge(deep_merge(defaults, env_values), expand_set(release["set"]))
        assert release["values"]["environment"] == env_name
        assert release["values"]["migrations"]["enabled"] is release["schemaOwner"]


def test_expand_set_reads_dotted_keys_like_helm():
    assert expand_set({"a.b.c": 1, "a.d": True, "e": "x"}) == {"a": {"b": {"c": 1}, "d": True}, "e": "x"}


def test_cli_prints_the_list_as_json(repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "stack.deploy.releases", "--env", "prod", "--format", "json"],
        capture_output=True, text=True, cwd=repo_root, timeout=60, check=True,
    )
    listed = json.loads(result.stdout)
    assert [r["name"] for r in listed] == [r["name"] for r in releases("prod")]
    assert all(set(r) == LISTED_KEYS for r in listed)


def test_helmfile_reads_variants_yaml_and_sets_the_same_flags(repo_root):
    text = (repo_root / "environments" / "helmfile.yaml.gotmpl").read_text()
    assert 'readFile (printf "%s/variants.yaml" $env) | fromYaml' in text
    assert "chart: ../chart" in text and "{{ $env }}/values.yaml" in text
    assert "name: pizza-{{ $variant }}" in text and "namespace: pizza-{{ $variant }}" in text
    flags = {line.split("name:")[1].strip() for line in text.splitlines() if line.strip().startswith("- name:")}
    assert set(releases("dev")[0]["set"]) <= flags
    assert "needs:" in text
