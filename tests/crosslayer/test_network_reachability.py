"""The NetworkPolicies the first deploy installs, evaluated against the subnets Terraform creates.

Every release of every environment, rendered from the values the deploy workflow really passes
(deploy_model): the ALB's subnets reach the pods' port, the pods reach the database subnets on
5432 (the instance, its replica and RDS Proxy live there), the cache's subnets on 6379 where the
cache is on, and the cluster DNS, and nothing else is allowed.
"""

from __future__ import annotations

import ipaddress

import pytest

from tests.crosslayer.deploy_model import stack, variables, vpc_layout

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
# Places that must not reach the pods, or that the pods must not reach.
OUTSIDE = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("203.0.113.0/24")]


def selects(policy: dict, labels: dict) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def pod_templates(release) -> list[tuple[str, dict]]:
    """(what, labels) of each pod the release runs: web pods and the migration hook's pods."""
    found = []
    for kind in ("Deployment", "Job"):
        for obj in release.of_kind(kind):
            found.append((f"{kind}/{obj['metadata']['name']}", obj["spec"]["template"]["metadata"]["labels"]))
    return found


def rules(release, labels: dict, direction: str) -> list[dict]:
    """Every ingress or egress rule of the release's policies that select a pod with these labels."""
    return [
        rule
        for policy in release.of_kind("NetworkPolicy")
        if selects(policy, labels) and direction.capitalize() in policy["spec"]["policyTypes"]
        for rule in policy["spec"].get(direction, [])
    ]


def ports_of(rule: dict) -> set[tuple[int, str]]:
    return {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}


def ip_allowed(rule_list: list[dict], direction: str, network, port: int) -> bool:
    """Does some rule let the whole of `network` through on TCP `port`?"""
    peers_key = "from" if direction == "ingress" else "to"
    for rule in rule_list:
        if rule.get("ports") and (port, "TCP") not in ports_of(rule):
            continue
        if peers_key not in rule:
            return True  # no peers listed: everyone
        for peer in rule[peers_key]:
            block = peer.get("ipBlock")
            if block and network.subnet_of(ipaddress.ip_network(block["cidr"])) and not block.get("except"):
                return True
    return False


@pytest.fixture(scope="module", params=["dev", "qa", "prod"])
def env_deploy(request, deployed):
    env = request.param
    return env, deployed(env), vpc_layout(variables(env))


def test_terraform_puts_the_alb_database_and_nodes_in_the_subnets_the_model_computes():
    # The layout the tests compute is only meaningful if the resources sit in those subnets.
    assert stack().resource("aws_lb", "web")["subnets"] == "${module.vpc.public_subnets}"
    assert stack().resource("aws_db_instance", "orders")["db_subnet_group_name"] == "${module.vpc.database_subnet_group_name}"
    assert stack().modules["vpc"]["create_database_subnet_group"] is True
    assert stack().modules["eks"]["subnet_ids"] == "${module.vpc.private_subnets}"
    assert stack().resource("aws_lb_target_group", "variant")["target_type"] == "ip"  # the ALB sends from its subnets to pod IPs
    # The scale tier: RDS Proxy in the database subnets; a same-region replica inherits the primary's subnet group.
    assert stack().resource("aws_db_proxy", "web")["vpc_subnet_ids"] == "${module.vpc.database_subnets}"
    assert "db_subnet_group_name" not in stack().resource("aws_db_instance", "replica")
    # The cache's subnets are the ones whose CIDRs the deploy publishes as cache_subnet_cidrs.
    assert (
        stack().resource("aws_elasticache_replication_group", "cache")["subnet_group_name"] == "${aws_elasticache_subnet_group.cache.name}"
    )
    assert stack().resource("aws_elasticache_subnet_group", "cache")["subnet_ids"] == "${module.vpc.database_subnets}"
    assert stack().outputs["cache_subnet_cidrs"]["value"] == "${module.vpc.database_subnets_cidr_blocks}"


def test_the_alb_subnets_reach_every_pod_port(env_deploy):
    env, releases, layout = env_deploy
    for release in releases:
        port = release.values["containerPort"]
        labels = release.of_kind("Deployment")[0]["spec"]["template"]["metadata"]["labels"]
        for subnet in layout["public"]:
            assert ip_allowed(rules(release, labels, "ingress"), "ingress", subnet, port), (
                f"{env}/{release.release['name']}: the ALB subnet {subnet} cannot reach the pods' port {port}"
            )


def test_nothing_but_the_alb_and_the_release_test_pod_reaches_the_pods(env_deploy):
    env, releases, layout = env_deploy
    for release in releases:
        port = release.values["containerPort"]
        for what, labels in pod_templates(release):
            ingress = rules(release, labels, "ingress")
            metrics_port = release.values["metrics"]["port"]
            for rule in ingress:
                assert "from" in rule, f"{env}/{what}: an ingress rule without sources admits everyone"
                if ports_of(rule) == {(metrics_port, "TCP")}:
                    # The metrics port: the scraper's namespace only, never an address range.
                    scraper = {"kubernetes.io/metadata.name": release.values["metrics"]["scraperNamespace"]}
                    assert rule["from"] == [{"namespaceSelector": {"matchLabels": scraper}}], f"{env}/{what}: metrics from {rule['from']}"
                    continue
                assert ports_of(rule) == {(port, "TCP")}, f"{env}/{what}: ingress on {ports_of(rule)}"
                for peer in rule["from"]:
                    if "ipBlock" in peer:
                        net = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                        assert any(net.subnet_of(s) for s in layout["public"]), f"{env}/{what}: {net} is not an ALB subnet"
                    else:
                        # Only this release's own `helm test` pod.
                        selector = peer["podSelector"]["matchLabels"]
                        assert "namespaceSelector" not in peer
                        assert selector.get("app.kubernetes.io/instance") == release.release["name"]
                        assert selector.get("app.kubernetes.io/component") == "test"
            for outside in [*OUTSIDE, *layout["private"], *layout["database"]]:
                for any_port in (port, metrics_port):
                    assert not ip_allowed(ingress, "ingress", outside, any_port), f"{env}/{what}: {outside} reaches :{any_port}"


def test_the_pods_reach_the_database_and_cache_subnets_and_dns_and_nothing_else(env_deploy):
    env, releases, layout = env_deploy
    # Where the cache is: the subnets of cache.tf's subnet group (asserted above to be the database subnets).
    cache_subnets = layout["database"]
    for release in releases:
        db_port = release.values["database"]["port"]
        assert db_port == 5432
        cache_on = release.values["cache"]["enabled"]
        allowed = {(db_port, "TCP"): layout["database"], **({(6379, "TCP"): cache_subnets} if cache_on else {})}
        for what, labels in pod_templates(release):
            egress = rules(release, labels, "egress")
            for subnet in layout["database"]:
                assert ip_allowed(egress, "egress", subnet, db_port), f"{env}/{what}: cannot reach the database subnet {subnet}"
            for subnet in cache_subnets:
                assert ip_allowed(egress, "egress", subnet, 6379) == cache_on, f"{env}/{what}: cache {subnet}:6379 (cache on: {cache_on})"
            dns = [r for r in egress if r.get("to") == [DNS_PEER]]
            assert dns and ports_of(dns[0]) == {(53, "UDP"), (53, "TCP")}, f"{env}/{what}: no DNS"
            for rule in egress:
                assert "to" in rule, f"{env}/{what}: an egress rule without destinations allows everything"
                if rule["to"] == [DNS_PEER]:
                    continue
                assert rule.get("ports"), f"{env}/{what}: an egress rule on every port"
                for port in ports_of(rule):
                    assert port in allowed, f"{env}/{what}: egress on {port}"
                    for peer in rule["to"]:
                        net = ipaddress.ip_network(peer["ipBlock"]["cidr"])
                        assert any(net.subnet_of(s) for s in allowed[port]), f"{env}/{what}: {port} to {net}, outside its subnets"
            for outside in [*OUTSIDE, *layout["public"], *layout["private"]]:
                for port in (db_port, 6379):
                    assert not ip_allowed(egress, "egress", outside, port), f"{env}/{what}: reaches {outside}:{port}"
