"""terraform/charts/platform renders what the app chart expects: the store, the namespaces, the RBAC."""

from __future__ import annotations

import pytest
import yaml

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk is in requirements-dev.txt")


@pytest.fixture(scope="module")
def platform_objects(terraform_dir, variant_sets):
    chart = helm_python.Chart.load(str(terraform_dir / "charts" / "platform"))
    namespaces = [f"pizza-{name}" for name in variant_sets["prod"].variants]
    files = chart.render({"region": "us-east-1", "namespaces": namespaces}, name="pizza-platform", namespace="kube-system", is_install=True)
    objects = [doc for text in files.values() for doc in yaml.safe_load_all(text) if doc]
    return namespaces, objects


def test_cluster_secret_store_for_the_chart(platform_objects):
    namespaces, objects = platform_objects
    (store,) = [o for o in objects if o["kind"] == "ClusterSecretStore"]
    assert store["metadata"]["name"] == "aws-secrets-manager"
    assert store["spec"]["provider"]["aws"] == {"service": "SecretsManager", "region": "us-east-1"}
    assert store["spec"]["conditions"] == [{"namespaces": namespaces}]


def test_one_namespace_and_deployer_role_per_variant(platform_objects):
    namespaces, objects = platform_objects
    assert sorted(o["metadata"]["name"] for o in objects if o["kind"] == "Namespace") == sorted(namespaces)
    roles = [o for o in objects if o["kind"] == "Role"]
    assert sorted(r["metadata"]["namespace"] for r in roles) == sorted(namespaces)
    for role in roles:
        groups = {g for rule in role["rules"] for g in rule["apiGroups"]}
        assert groups == {"elbv2.k8s.aws", "external-secrets.io"}
