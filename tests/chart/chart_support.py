"""Helpers for the chart tests: render a release with Helm's own engine (helm-python-sdk) and parse it.

Imported by tests/chart/conftest.py and the test modules (kept out of conftest.py so there is one
unambiguous module to import from).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import helm_python
import kubernetes_validate
import kubernetes_validate.utils
import yaml

from stack.deploy.releases import deep_merge, releases

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart"
# An image tag as the deploy workflow passes it (--set image.tag=<git sha>).
TEST_IMAGE_TAG = "3f2c1a9"
# The database host as the deploy passes it (--set-string database.host=<terraform output database_host>);
# environments/<env>/values.yaml leaves it empty so that nothing renders without it.
TEST_DATABASE_HOST = "pizza-test.abcdefghijkl.eu-west-1.rds.amazonaws.com"
# The network ranges as the deploy passes them (--set-json from Terraform's alb_subnet_cidrs,
# database_subnet_cidrs and cache_subnet_cidrs); tests/crosslayer checks the real ones against the VPC layout.
DEPLOY_VALUES = {
    "image": {"tag": TEST_IMAGE_TAG},
    "database": {"host": TEST_DATABASE_HOST, "cidrs": ["10.0.52.0/24", "10.0.53.0/24", "10.0.54.0/24"]},
    "cache": {"cidrs": ["10.0.52.0/24", "10.0.53.0/24", "10.0.54.0/24"]},
    "networkPolicy": {"ingressCidrs": ["10.0.48.0/24", "10.0.49.0/24", "10.0.50.0/24"]},
}
DEFAULT_KUBE_VERSION = "1.33"
# The brief's pattern, then Terraform's usual `variable "kubernetes_version" { default = "1.33" }`.
KUBE_VERSION_SETTING = re.compile(r'(?:kubernetes_version|cluster_version)\s*=\s*"(\d+\.\d+)"')
KUBE_VERSION_VARIABLE = re.compile(r'variable\s+"(?:kubernetes_version|cluster_version)"\s*\{[^}]*?default\s*=\s*"(\d+\.\d+)"', re.S)
HOOK = "helm.sh/hook"


def terraform_kube_version(terraform_dir: Path) -> str:
    """The EKS Kubernetes minor version Terraform sets, or 1.33 when there is no Terraform yet."""
    texts = [path.read_text() for path in sorted(terraform_dir.glob("*.tf"))] if terraform_dir.is_dir() else []
    for pattern in (KUBE_VERSION_SETTING, KUBE_VERSION_VARIABLE):
        for text in texts:
            if match := pattern.search(text):
                return match.group(1)
    return DEFAULT_KUBE_VERSION


def validation_version(wanted: str) -> str:
    """`wanted` as kubernetes-validate names it (1.33 -> 1.33.0), or its newest when it lacks that one."""
    available = kubernetes_validate.utils.all_versions()
    matching = [v for v in available if kubernetes_validate.utils.major_minor(v) == wanted]
    return matching[-1] if matching else available[-1]


@dataclass
class RenderedRelease:
    """One release rendered: its entry from stack.deploy.releases, its values and its parsed objects."""

    env: str
    spec: dict
    values: dict
    files: dict[str, str]
    objects: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def namespace(self) -> str:
        return self.spec["namespace"]

    @property
    def notes(self) -> str:
        return next((text for path, text in self.files.items() if path.endswith("NOTES.txt")), "")

    def of_kind(self, kind: str) -> list[dict]:
        return [obj for obj in self.objects if obj["kind"] == kind]

    def one(self, kind: str) -> dict:
        found = self.of_kind(kind)
        assert len(found) == 1, f"{self.name}: expected one {kind}, found {len(found)}"
        return found[0]

    def settings(self) -> dict:
        """The release's settings ConfigMap (named like the release), not the variants file's."""
        (found,) = [c for c in self.of_kind("ConfigMap") if c["metadata"]["name"] == self.name]
        return found

    def installed(self) -> list[dict]:
        """The objects Helm keeps as the release (hooks excluded)."""
        return [obj for obj in self.objects if HOOK not in obj["metadata"].get("annotations", {})]

    def hooks(self, event: str) -> list[dict]:
        return [obj for obj in self.objects if event in obj["metadata"].get("annotations", {}).get(HOOK, "").split(",")]


def pod_specs(release: RenderedRelease) -> dict[str, dict]:
    """Every pod spec the release renders: the Deployment's, the migration Job's, the test Pod's."""
    specs = {}
    for obj in release.objects:
        if obj["kind"] in ("Deployment", "Job"):
            specs[f"{obj['kind']}/{obj['metadata']['name']}"] = obj["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            specs[f"Pod/{obj['metadata']['name']}"] = obj["spec"]
    return specs


def web_container(release: RenderedRelease) -> dict:
    return release.one("Deployment")["spec"]["template"]["spec"]["containers"][0]


def parse_manifests(files: dict[str, str]) -> list[dict]:
    """The rendered objects, parsed with libyaml (the same objects as yaml.safe_load_all, ten times faster:
    every chart test parses dozens of renders)."""
    objects = []
    for path, text in sorted(files.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.load_all(text, Loader=yaml.CSafeLoader):
            if doc:
                objects.append(doc)
    return objects


# The Prometheus operator's kinds, present where kube-prometheus-stack runs (terraform/observability.tf).
MONITORING_API_VERSIONS = ("monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule")


def render_release(
    chart: helm_python.Chart, env: str, spec: dict, extra: dict | None = None, api_versions: tuple[str, ...] = ()
) -> RenderedRelease:
    values = deep_merge(spec["values"], DEPLOY_VALUES)
    if extra:
        values = deep_merge(values, extra)
    if api_versions:  # helm template --api-versions: the public render() has no such option, the engine does
        import json

        from helm_python import _native

        opts = {"name": spec["name"], "namespace": spec["namespace"], "is_install": True, "api_versions": list(api_versions)}
        files = json.loads(_native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(opts)))
    else:
        files = chart.render(values, name=spec["name"], namespace=spec["namespace"], is_install=True)
    return RenderedRelease(env=env, spec=spec, values=values, files=files, objects=parse_manifests(files))


def release_values(env: str = "dev", index: int = 0) -> tuple[dict, dict]:
    """A release's spec and values with the deploy's image tag and database host, for tests that tweak one value."""
    spec = releases(env)[index]
    return spec, deep_merge(spec["values"], DEPLOY_VALUES)
