"""The chart lints clean and every object it renders is valid for the cluster it goes to."""

from __future__ import annotations

import json
from pathlib import Path

import helm_python
import jsonschema
import kubernetes_validate
import pytest

from chart_support import CHART_DIR, terraform_kube_version, validation_version

# Custom resources kubernetes-validate has no schema for, each checked against a small schema of the
# fields the chart uses (tests/chart/crd-schemas/). Any other unknown kind fails the test.
CRD_SCHEMAS = {
    ("elbv2.k8s.aws/v1beta1", "TargetGroupBinding"): "target-group-binding.json",
    ("external-secrets.io/v1", "ExternalSecret"): "external-secret.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "service-monitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-rule.json",
}
SCHEMA_DIR = Path(__file__).parent / "crd-schemas"


def crd_validator(api_version: str, kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMA_DIR / CRD_SCHEMAS[(api_version, kind)]).read_text())
    return jsonschema.Draft7Validator(schema)


def validate_objects(objects: list[dict], version: str) -> list[str]:
    problems = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        key = (obj["apiVersion"], obj["kind"])
        if key in CRD_SCHEMAS:
            problems += [f"{where}: {error.message}" for error in crd_validator(*key).iter_errors(obj)]
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{where}: no schema ({error.message}); add it to CRD_SCHEMAS with a schema")
    return problems


def test_lint_reports_no_errors_for_any_release(all_releases, kube_version):
    for release in all_releases:
        report = helm_python.lint(str(CHART_DIR), release.values, strict=True, namespace=release.namespace, kube_version=f"v{kube_version}")
        assert report["errors"] == [], f"{release.env}/{release.name}: {report['errors']}"
        errors = [m for m in report["messages"] if m["severity"] >= 2]
        assert errors == [], f"{release.env}/{release.name}: {errors}"


def test_every_release_renders_every_core_object(all_releases):
    for release in all_releases:
        kinds = {obj["kind"] for obj in release.objects}
        expected = {
            "Deployment",
            "Service",
            "ServiceAccount",
            "ConfigMap",
            "PodDisruptionBudget",
            "HorizontalPodAutoscaler",
            "NetworkPolicy",
            "ExternalSecret",
            "TargetGroupBinding",
            "Pod",
        }
        assert expected <= kinds, f"{release.env}/{release.name} lacks {sorted(expected - kinds)}"


def test_every_object_is_valid_for_the_eks_version(all_releases, kube_version):
    problems = [f"{r.env}/{r.name} {p}" for r in all_releases for p in validate_objects(r.objects, kube_version)]
    assert problems == []


def test_optional_objects_are_valid_too(optional_release, kube_version):
    kinds = {obj["kind"] for obj in optional_release.objects}
    assert {"Ingress", "ServiceMonitor"} <= kinds
    assert validate_objects(optional_release.objects, kube_version) == []


def test_kind_values_render_a_valid_release(kind_release, kube_version):
    kinds = {obj["kind"] for obj in kind_release.objects}
    assert "TargetGroupBinding" not in kinds and "ExternalSecret" not in kinds
    (job,) = [hook for hook in kind_release.hooks("pre-install") if hook["kind"] == "Job"]
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"] if "valueFrom" in e}
    assert refs == {"pizza-credentials"}
    assert validate_objects(kind_release.objects, kube_version) == []


def test_a_wrong_custom_resource_is_caught(optional_release, kube_version):
    binding = json.loads(json.dumps(optional_release.one("TargetGroupBinding")))
    del binding["spec"]["serviceRef"]
    assert any("serviceRef" in p for p in validate_objects([binding], kube_version))


def test_kube_version_comes_from_terraform(tmp_path, repo_root):
    assert terraform_kube_version(tmp_path / "missing") == "1.33"
    (tmp_path / "eks.tf").write_text('module "eks" {\n  cluster_version = "1.31"\n}\n')
    assert terraform_kube_version(tmp_path) == "1.31"
    (tmp_path / "eks.tf").write_text('variable "kubernetes_version" {\n  type    = string\n  default = "1.32"\n}\n')
    assert terraform_kube_version(tmp_path) == "1.32"
    wanted = terraform_kube_version(repo_root / "terraform")
    assert validation_version(wanted).startswith(wanted) or wanted not in {
        kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()
    }


@pytest.mark.parametrize("wanted, expected", [("1.33", "1.33.0"), ("9.99", None)])
def test_validation_version_falls_back_to_the_newest(wanted, expected):
    assert validation_version(wanted) == (expected or kubernetes_validate.utils.latest_version())
