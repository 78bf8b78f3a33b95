"""values.schema.json (and the chart's own checks) refuse bad values with a message naming the key.

Each case renders a real release (dev, pizza-a) through helm-python-sdk with one value broken, as
`helm upgrade --install --set ...` would, and checks Helm's error message.
"""

from __future__ import annotations

import json

import helm_python
import pytest

from chart_support import release_values
from config.variants import ENVIRONMENTS, THEMES, VARIANT_NAMES
from stack.deploy.releases import deep_merge

SCHEMA_CASES = {
    "unknown theme": ({"theme": "neon"}, ["/theme", "'classic', 'bold', 'minimal'"]),
    "unknown variant": ({"variant": "f"}, ["/variant"]),
    "unknown environment": ({"environment": "staging"}, ["/environment"]),
    "time zone that is not a zone name": ({"shopTimeZone": "Copenhagen time"}, ["/shopTimeZone", "pattern"]),
    "missing image repository": ({"image": {"repository": None}}, ["/image", "missing property 'repository'"]),
    "empty image repository": ({"image": {"repository": ""}}, ["/image/repository", "minLength"]),
    "missing image tag": ({"image": {"tag": None}}, ["/image", "missing property 'tag'"]),
    "empty image tag": ({"image": {"tag": ""}}, ["/image/tag"]),
    "latest image tag": ({"image": {"tag": "latest"}}, ["/image/tag", "'not' failed"]),
    "replicas below one": ({"replicaCount": 0}, ["/replicaCount", "minimum"]),
    "autoscaler floor below one": ({"autoscaling": {"minReplicas": 0}}, ["/autoscaling/minReplicas", "minimum"]),
    "plain-text database password": ({"database": {"password": "hunter2"}}, ["/database/password"]),
    "plain-text database url": ({"database": {"url": "postgres://u:p@h/db"}}, ["/database/url"]),
    "plain-text secret key": ({"secrets": {"secretKey": "not-a-real-key"}}, ["/secrets/secretKey"]),
    "password through extraEnv": ({"extraEnv": {"DATABASE_PASSWORD": "hunter2"}}, ["/extraEnv/DATABASE_PASSWORD"]),
    "unknown top-level key": ({"replicas": 3}, ["additional properties 'replicas' not allowed"]),
    "unknown key in image": ({"image": {"registry": "example.org"}}, ["/image", "additional properties 'registry' not allowed"]),
    "short image digest": ({"image": {"digest": "sha256:0"}}, ["/image/digest"]),
    "image digest of another algorithm": ({"image": {"digest": "sha512:" + "0" * 128}}, ["/image/digest"]),
    "canary digest not a digest": ({"canary": {"enabled": True, "image": {"tag": "abc", "digest": "abc"}}}, ["/canary/image/digest"]),
    "unknown key in database": ({"database": {"hostname": "db"}}, ["/database", "additional properties 'hostname' not allowed"]),
    "unknown key in migrations": ({"migrations": {"enable": True}}, ["/migrations", "additional properties 'enable' not allowed"]),
    "unknown key in targetGroupBinding": (
        {"targetGroupBinding": {"arn": "x"}},
        ["/targetGroupBinding", "additional properties 'arn' not allowed"],
    ),
    "malformed target group ARN": ({"targetGroupBinding": {"targetGroupARN": "pizza-dev-a"}}, ["/targetGroupBinding/targetGroupARN"]),
    "no allowed host": ({"allowedHosts": []}, ["/allowedHosts", "minItems"]),
    "missing database host": ({"database": {"host": ""}}, ["/database/host"]),
    "allowContract not a boolean": ({"migrations": {"allowContract": "yes"}}, ["/migrations/allowContract"]),
}

TEMPLATE_CASES = {
    "grace period too short": (
        {"terminationGracePeriodSeconds": 30},
        ["terminationGracePeriodSeconds (30) must be greater than preStopSleepSeconds + gunicorn.gracefulTimeoutSeconds (35)"],
    ),
    "no secret source": ({"secrets": {"externalSecret": {"enabled": False}}}, ["secrets.existingSecret", "secrets.externalSecret"]),
    "no target group": ({"targetGroupBinding": {"targetGroupName": ""}}, ["targetGroupBinding.targetGroupARN"]),
    "ingress without host": ({"ingress": {"enabled": True}}, ["ingress.host is required"]),
    "autoscaler floor above ceiling": ({"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}, ["autoscaling.minReplicas"]),
    "a PDB over one pod": (
        {"autoscaling": {"minReplicas": 1}},
        ["podDisruptionBudget needs at least two replicas", "autoscaling.minReplicas is 1"],
    ),
    "a PDB over one fixed pod": ({"autoscaling": {"enabled": False}, "replicaCount": 1}, ["replicaCount is 1"]),
    "an open app port behind the ALB": ({"networkPolicy": {"ingressCidrs": []}}, ["networkPolicy.ingressCidrs", "alb_subnet_cidrs"]),
}


def render_with(chart, change: dict) -> None:
    spec, values = release_values("dev")
    chart.render(deep_merge(values, change), name=spec["name"], namespace=spec["namespace"])


def assert_refused(chart, change: dict, error: type[Exception], expected: list[str]) -> None:
    """Rendering with `change` raises `error`, whose message names every fragment of `expected`."""
    with pytest.raises(error) as caught:
        render_with(chart, change)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message, message


@pytest.mark.parametrize("change, expected", SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_schema_refuses_and_names_the_key(chart, change, expected):
    assert_refused(chart, change, helm_python.HelmValuesError, expected)


@pytest.mark.parametrize("change, expected", TEMPLATE_CASES.values(), ids=TEMPLATE_CASES.keys())
def test_chart_refuses_what_the_schema_cannot_express(chart, change, expected):
    assert_refused(chart, change, helm_python.HelmError, expected)


def test_the_release_values_themselves_pass(chart):
    spec, values = release_values("dev")
    chart.validate_schema(values)
    assert chart.render(values, name=spec["name"], namespace=spec["namespace"])


def test_environment_values_without_the_deploys_database_host_are_refused(chart):
    spec, values = release_values("dev")
    values = deep_merge(values, {"database": {"host": spec["values"]["database"]["host"]}})
    with pytest.raises(helm_python.HelmValuesError) as caught:
        chart.render(values, name=spec["name"], namespace=spec["namespace"])
    assert "/database/host" in str(caught.value)


def test_chart_defaults_alone_are_refused_until_image_and_database_are_set(chart):
    with pytest.raises(helm_python.HelmValuesError) as caught:
        chart.validate_schema({})
    message = str(caught.value)
    for key in ("/image/repository", "/image/tag", "/database/host"):
        assert key in message, message


def test_schema_enums_match_the_themes_variants_and_environments_on_disk(repo_root):
    """A new theme is a directory of app/themes/, a new environment one of environments/: the chart
    schema's enums must list the same names, or the release is refused (or a typo accepted)."""
    schema = json.loads((repo_root / "chart" / "values.schema.json").read_text())["properties"]
    on_disk = sorted(d.name for d in (repo_root / "environments").iterdir() if (d / "variants.yaml").is_file())
    assert sorted(schema["theme"]["enum"]) == sorted(THEMES)
    assert sorted(schema["environment"]["enum"]) == on_disk == sorted(ENVIRONMENTS)
    assert schema["variant"]["enum"] == list(VARIANT_NAMES)
