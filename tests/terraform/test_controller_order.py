"""A fresh `terraform apply` installs the cluster's controllers only once they can run: after the
node group, the add-ons and the access entries (all of module.eks), with time to pull images, and
the platform chart (whose ClusterSecretStore the External Secrets webhook validates) only after
External Secrets is ready."""

from __future__ import annotations

import re


def resolve(main_stack, value):
    """A literal, or the value of the one local it names."""
    if isinstance(value, str) and (m := re.fullmatch(r"\$\{local\.(\w+)\}", value)):
        return main_stack.locals[m.group(1)]
    return value


def test_every_cluster_release_waits_for_the_whole_eks_module(main_stack):
    releases = main_stack.resources_of("helm_release")
    assert {"aws_load_balancer_controller", "external_secrets", "platform", "cluster_autoscaler"} <= set(releases)
    for name, release in releases.items():
        assert "${module.eks}" in release.get("depends_on", []), (
            f"helm_release.{name} may start before the node group and CoreDNS exist (depends_on module.eks)"
        )


def test_every_cluster_release_waits_for_its_pods_long_enough(main_stack):
    for name, release in main_stack.resources_of("helm_release").items():
        assert release.get("wait", True) is True, name
        assert int(resolve(main_stack, release.get("timeout", 300))) >= 600, (
            f"helm_release.{name}: Helm's 300 s default is too short on fresh nodes"
        )


def test_the_platform_chart_comes_after_external_secrets_is_ready(main_stack):
    platform = main_stack.resource("helm_release", "platform")
    assert {"${helm_release.external_secrets}", "${helm_release.aws_load_balancer_controller}"} <= set(platform["depends_on"])
    external_secrets = main_stack.resource("helm_release", "external_secrets")
    assert external_secrets["wait"] is True and external_secrets["wait_for_jobs"] is True


def test_a_controller_with_aws_access_starts_after_its_pod_identity(main_stack):
    associations = main_stack.resources_of("aws_eks_pod_identity_association")
    for name, release in main_stack.resources_of("helm_release").items():
        values = release.get("values", [""])[0]
        account = re.search(r'name\s*=\s*"([\w-]+)"', values[values.find("erviceAccount") :]) if "erviceAccount" in values else None
        if not account or name == "platform":
            continue
        matching = [a for a, body in associations.items() if body["service_account"] == account.group(1)]
        assert matching, f"helm_release.{name}: no Pod Identity association for {account.group(1)}"
        assert f"${{aws_eks_pod_identity_association.{matching[0]}}}" in release["depends_on"], name


def test_pods_can_be_scaled_metrics_server_and_a_node_autoscaler(main_stack):
    addons = main_stack.modules["eks"]["addons"]
    assert "metrics-server" in addons, "the HorizontalPodAutoscaler has no metrics without metrics-server"
    autoscaler = main_stack.resource("helm_release", "cluster_autoscaler")
    assert "autoDiscovery" in autoscaler["values"][0] and "module.eks.cluster_name" in autoscaler["values"][0]
    policy = main_stack.data[("aws_iam_policy_document", "cluster_autoscaler")]["statement"]
    resize = next(s for s in policy if "autoscaling:SetDesiredCapacity" in s["actions"])
    # Only this cluster's own groups may be resized.
    assert resize["condition"][0]["variable"] == "aws:ResourceTag/k8s.io/cluster-autoscaler/${local.name}"
