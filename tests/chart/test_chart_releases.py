"""The release list (stack/deploy/releases.py) follows variants.yaml, and its helm-args are what Helm
reads back as exactly the values the chart tests render (the deploy and CI pass those arguments)."""

from __future__ import annotations

import json
import subprocess
import sys

import helm_python
import pytest
import yaml

from stack.deploy.releases import deep_merge, expand_set, releases, set_flag

LISTED_KEYS = {"name", "namespace", "variant", "theme", "weight", "schemaOwner", "needs", "chart", "valuesFiles", "set", "setFiles"}
# Helm's own parsers for each flag (helm-python-sdk), as `helm upgrade` reads them.
HELM_PARSERS = {
    "--set": helm_python.parse_set_string,
    "--set-string": helm_python.parse_set_string_values,
    "--set-json": helm_python.parse_set_json,
}


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
    variants_text = (repo_root / "environments" / env_name / "variants.yaml").read_text()
    for release in releases(env_name):
        (values_file,) = release["valuesFiles"]
        env_values = yaml.safe_load((repo_root / values_file).read_text())
        expected = deep_merge(deep_merge(defaults, env_values), expand_set(release["set"]))
        assert release["values"] == {**expected, "variantsFile": variants_text}
        assert release["values"]["environment"] == env_name
        assert release["values"]["migrations"]["enabled"] is release["schemaOwner"]


def test_expand_set_reads_dotted_keys_like_helm():
    assert expand_set({"a.b.c": 1, "a.d": True, "e": "x"}) == {"a": {"b": {"c": 1}, "d": True}, "e": "x"}


def run_cli(repo_root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stack.deploy.releases", *args], capture_output=True, text=True, cwd=repo_root, timeout=60)


def test_cli_prints_the_list_as_json(repo_root):
    result = run_cli(repo_root, "--env", "prod", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [r["name"] for r in listed] == [r["name"] for r in releases("prod")]
    assert all(set(r) == LISTED_KEYS for r in listed)


def helm_read(words: list[str], repo_root) -> tuple[list[str], dict, dict]:
    """What `helm upgrade` makes of these arguments: its values files, its flags (parsed by Helm's own
    parsers, in the order Helm applies them) and the --set-file values (read from the files)."""
    assert len(words) % 2 == 0, words
    files, flags, file_values = [], {}, {}
    for option, value in zip(words[::2], words[1::2], strict=True):
        if option == "-f":
            files.append(value)
        elif option == "--set-file":
            key, _, path = value.partition("=")
            file_values = deep_merge(file_values, expand_set({key: (repo_root / path).read_text()}))
        else:
            assert option in HELM_PARSERS, f"helm-args printed an option the test does not know: {option}"
            flags = deep_merge(flags, HELM_PARSERS[option](value))
    return files, flags, file_values


def test_helm_args_are_what_helm_reads_back_as_the_release_values(env_name, repo_root):
    # The one implementation the deploy (roll-release.sh) and CI (chart, kind-install) call.
    defaults = yaml.safe_load((repo_root / "chart" / "values.yaml").read_text())
    for release in releases(env_name):
        result = subprocess.run(
            [sys.executable, "-m", "stack.deploy.releases", "--env", env_name, "--release", release["name"], "--format", "helm-args"],
            capture_output=True,
            cwd=repo_root,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        *words, last = result.stdout.decode().split("\0")
        assert last == "", "every argument ends with a NUL byte, the last one too"
        files, flags, file_values = helm_read(words, repo_root)
        assert files == release["valuesFiles"] == [f"environments/{env_name}/values.yaml"]
        # Typed as releases() has them: migrations.enabled a boolean, the names text.
        assert flags == expand_set(release["set"])
        assert file_values == {"variantsFile": (repo_root / "environments" / env_name / "variants.yaml").read_text()}
        values = defaults
        for path in files:
            values = deep_merge(values, yaml.safe_load((repo_root / path).read_text()))
        assert deep_merge(deep_merge(values, flags), file_values) == release["values"], release["name"]


@pytest.mark.parametrize(
    "value", ["a,b", "back\\slash", "{not-a-list}", "x=y", "true", "0123", "null", " spaced ", "multi\nline", 7, -1, 2.5, True, False]
)
def test_each_set_value_reaches_helm_unchanged_with_its_type(value):
    option, expression = set_flag("some.key", value)
    assert HELM_PARSERS[option](expression) == {"some": {"key": value}}


def test_a_set_value_helm_has_no_flag_for_is_refused():
    with pytest.raises(TypeError, match="no --set form"):
        set_flag("some.key", ["a", "b"])


def test_helm_args_need_one_release_of_the_environment(repo_root):
    missing = run_cli(repo_root, "--env", "dev", "--format", "helm-args")
    assert missing.returncode == 2 and "--format helm-args needs --release" in missing.stderr
    unknown = run_cli(repo_root, "--env", "dev", "--release", "pizza-z", "--format", "helm-args")
    assert unknown.returncode == 2 and "environment dev has no release 'pizza-z'" in unknown.stderr
    assert unknown.stdout == "", "nothing for a caller to read into its helm arguments"


def test_release_filters_the_json_list(repo_root):
    result = run_cli(repo_root, "--env", "dev", "--release", "pizza-b", "--format", "json")
    assert [r["name"] for r in json.loads(result.stdout)] == ["pizza-b"]
