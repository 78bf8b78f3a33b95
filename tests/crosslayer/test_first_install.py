"""A first install, walked in the order Terraform and the deploy workflow create things: every
object the releases use exists before its user.

    terraform apply: module.eks (nodes, add-ons, access) -> controllers (CRDs, webhooks)
                     -> platform chart (namespaces, ClusterSecretStore, RBAC); secrets in Secrets Manager
    deploy.yml:      releases, gate, build -> schema owner (hooks: its ExternalSecret, then the
                     migration Job; then its objects) -> the other releases -> smoke
"""

from __future__ import annotations

import re

import helm_python
import pytest
import yaml

from tests.crosslayer.deploy_model import TERRAFORM_DIR, load_workflow, stack

HOOK, WEIGHT = "helm.sh/hook", "helm.sh/hook-weight"
# Which Terraform helm_release installs the CRDs of each API group the app chart uses.
CRD_PROVIDERS = {"elbv2.k8s.aws": "aws_load_balancer_controller", "external-secrets.io": "external_secrets"}
CORE_GROUPS = {"", "apps", "batch", "policy", "autoscaling", "networking.k8s.io"}


def depends_on(name: str) -> set[str]:
    """Every Terraform address helm_release.<name> waits for, directly or through others."""
    seen: set[str] = set()
    todo = [f"helm_release.{name}"]
    while todo:
        address = todo.pop()
        type_, _, res = address.partition(".")
        body = stack().resources.get((type_, res), {})
        for ref in body.get("depends_on", []):
            ref = ref.strip("${}")
            if ref not in seen:
                seen.add(ref)
                todo.append(ref)
    return seen


@pytest.fixture(scope="module")
def platform(variant_sets):
    """What Terraform's platform release installs, rendered with the values controllers.tf passes."""
    release = stack().resource("helm_release", "platform")
    values = release["values"][0]
    assert values == "${yamlencode({region = var.region, namespaces = local.app_namespaces})}"
    assert stack().locals["app_namespaces"] == '${[for name in keys(local.variants) : "pizza-${name}"]}'
    chart = helm_python.Chart.load(str(TERRAFORM_DIR / "charts" / "platform"))
    rendered = {}
    for env, variant_set in variant_sets.items():
        namespaces = [f"pizza-{name}" for name in variant_set.variants]
        files = chart.render(
            {"region": "us-east-1", "namespaces": namespaces}, name="pizza-platform", namespace="kube-system", is_install=True
        )
        rendered[env] = [doc for text in files.values() for doc in yaml.safe_load_all(text) if doc]
    chart.close()
    return rendered


@pytest.fixture(scope="module", params=["dev", "qa", "prod"])
def first_install(request, deployed, platform):
    return request.param, deployed(request.param), platform[request.param]


def test_the_controllers_come_after_the_cluster_and_the_platform_after_the_controllers():
    for name in ("aws_load_balancer_controller", "external_secrets", "cluster_autoscaler"):
        assert "module.eks" in depends_on(name), name
    assert {"module.eks", "helm_release.external_secrets", "helm_release.aws_load_balancer_controller"} <= depends_on("platform")


def test_every_custom_kind_a_release_uses_is_installed_by_terraform_first(first_install):
    env, releases, _ = first_install
    for release in releases:
        for obj in release.objects:
            group = obj["apiVersion"].rpartition("/")[0] if "/" in obj["apiVersion"] else ""
            if group in CORE_GROUPS:
                continue
            assert group in CRD_PROVIDERS, f"{env}/{release.release['name']}: nothing installs the CRD of {obj['kind']} ({group})"
            assert ("helm_release", CRD_PROVIDERS[group]) in stack().resources


def test_each_release_namespace_exists_before_the_deploy_with_the_readiness_gate(first_install):
    env, releases, platform_objects = first_install
    namespaces = {o["metadata"]["name"]: o["metadata"].get("labels", {}) for o in platform_objects if o["kind"] == "Namespace"}
    for release in releases:
        ns = release.helm_args[release.helm_args.index("--namespace") + 1]
        assert ns in namespaces, f"{env}: namespace {ns} is not made by the platform chart"
        assert namespaces[ns].get("elbv2.k8s.aws/pod-readiness-gate-inject") == "enabled", (
            f"{env}/{ns}: without the readiness gate a rollout can leave the ALB only draining targets"
        )


def test_every_secret_the_pods_read_is_made_by_terraform_and_reachable_through_the_store(first_install):
    env, releases, platform_objects = first_install
    (store,) = [o for o in platform_objects if o["kind"] == "ClusterSecretStore"]
    secret_names = {
        body["name"].replace("${local.secret_path}", f"pizza/{env}") for body in stack().resources_of("aws_secretsmanager_secret").values()
    }
    readable = set()
    policy = stack().data[("aws_iam_policy_document", "external_secrets")]["statement"]
    for statement in policy:
        if "secretsmanager:GetSecretValue" in statement["actions"]:
            for ref in statement["resources"]:
                name = re.fullmatch(r"\$\{aws_secretsmanager_secret\.(\w+)\.arn\}", ref).group(1)
                readable.add(stack().resource("aws_secretsmanager_secret", name)["name"].replace("${local.secret_path}", f"pizza/{env}"))
    for release in releases:
        for external in release.of_kind("ExternalSecret"):
            ref = external["spec"]["secretStoreRef"]
            assert (ref["kind"], ref["name"]) == ("ClusterSecretStore", store["metadata"]["name"])
            assert release.release["namespace"] in store["spec"]["conditions"][0]["namespaces"]
            for item in external["spec"]["data"]:
                key = item["remoteRef"]["key"]
                assert key in secret_names, f"{env}: {key} is not a Terraform secret"
                assert key in readable, f"{env}: External Secrets' role may not read {key}"


def test_hooks_create_the_migration_secret_before_the_job_and_pods_read_only_made_secrets(first_install):
    env, releases, _ = first_install
    for release in releases:
        made = {e["spec"]["target"]["name"]: e for e in release.of_kind("ExternalSecret")}
        for workload in [*release.of_kind("Deployment"), *release.of_kind("Job")]:
            containers = workload["spec"]["template"]["spec"]["containers"]
            used = {
                env_var["valueFrom"]["secretKeyRef"]["name"]
                for c in containers
                for env_var in c.get("env", [])
                if "secretKeyRef" in env_var.get("valueFrom", {})
            }
            for secret in used:
                assert secret in made, f"{env}/{workload['metadata']['name']} reads {secret}, which nothing creates"
                if HOOK in workload["metadata"].get("annotations", {}):
                    maker = made[secret]["metadata"].get("annotations", {})
                    # The release's own objects do not exist yet at pre-install: the hook needs a hook-made copy, created first.
                    assert set(workload["metadata"]["annotations"][HOOK].split(",")) <= set(maker.get(HOOK, "").split(","))
                    assert int(maker[WEIGHT]) < int(workload["metadata"]["annotations"][WEIGHT])


def test_the_workflow_migrates_with_the_owner_before_any_other_release_and_smokes_last(first_install):
    env, releases, _ = first_install
    jobs = load_workflow()["jobs"]
    owner = [r for r in releases if r.of_kind("Job")]
    assert len(owner) == 1 and owner[0].release["schemaOwner"], f"{env}: exactly the schema owner migrates"
    assert {"build", "releases", "gate"} <= set(jobs["deploy-owner"]["needs"])
    assert "deploy-owner" in jobs["deploy-others"]["needs"]
    assert {"deploy-owner", "deploy-others"} <= set(jobs["smoke"]["needs"])
