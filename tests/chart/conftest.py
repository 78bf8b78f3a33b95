"""Render the chart once per release of every environment, with Helm's own engine (helm-python-sdk).

The release list comes from stack/deploy/releases.py, the same list the deploy workflow installs, so the
tests check what gets deployed. Nothing here needs a cluster or the database.
"""

from __future__ import annotations

import functools

import kubernetes_validate.utils
import pytest
import yaml

from chart_support import CHART_DIR, MONITORING_API_VERSIONS, RenderedRelease, render_release, terraform_kube_version, validation_version
from stack.deploy.releases import releases


@pytest.fixture(scope="session", autouse=True)
def schemas_parsed_once():
    """kubernetes-validate reads and parses its JSON schemas again for every object it validates (the
    definitions file alone is megabytes); they cannot change during a run, so each is parsed once."""
    with pytest.MonkeyPatch.context() as patch:
        parse = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)
        patch.setattr(kubernetes_validate.utils, "schema_contents", parse)
        yield


@pytest.fixture(scope="session")
def rendered(chart, variant_sets) -> dict[str, list[RenderedRelease]]:
    """Every release of every environment, rendered once for the whole session."""
    return {env: [render_release(chart, env, spec) for spec in releases(env)] for env in variant_sets}


@pytest.fixture(scope="session")
def all_releases(rendered) -> list[RenderedRelease]:
    return [release for env_releases in rendered.values() for release in env_releases]


@pytest.fixture(scope="session")
def optional_release(chart) -> RenderedRelease:
    """The dev schema owner with every optional object switched on (Ingress, ServiceMonitor, an ARN)."""
    spec = releases("dev")[0]
    extra = {
        "ingress": {
            "enabled": True,
            "host": f"{spec['variant']}.dev.pizza.example.com",
            "annotations": {"alb.ingress.kubernetes.io/scheme": "internal"},
        },
        "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
        "targetGroupBinding": {
            "targetGroupARN": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/pizza-dev-a/0123456789abcdef",
            "albSecurityGroupId": "sg-0123456789abcdef0",
        },
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/pizza-dev-a"}},
    }
    return render_release(chart, "dev", spec, extra, api_versions=MONITORING_API_VERSIONS)


@pytest.fixture(scope="session")
def kind_release(chart) -> RenderedRelease:
    """The dev schema owner rendered with chart/ci/kind-values.yaml on top (the kind smoke install)."""
    spec = releases("dev")[0]
    kind_values = yaml.safe_load((CHART_DIR / "ci" / "kind-values.yaml").read_text())
    return render_release(chart, "dev", spec, kind_values)


@pytest.fixture(scope="session")
def kube_version(repo_root) -> str:
    return validation_version(terraform_kube_version(repo_root / "terraform"))
