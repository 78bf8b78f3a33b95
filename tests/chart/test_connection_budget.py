"""The connection budget, across layers: what the rendered releases may open at their HPA maximum
(pods x gunicorn workers x threads, one persistent connection per thread, plus the rollout's surge
pod) against what RDS Proxy may open (Terraform's max_connections_percent of the instance class's
max_connections) and what the instance and its replica allow. Raising an HPA maximum, workers or
threads past the budget, or shrinking the database class under it, fails here before it fails in
production. The figures are in docs/capacity.md.
"""

from __future__ import annotations

import math

import pytest

from chart_support import render_release
from stack.deploy.releases import releases
from stack.services import pgbouncer
from tests.terraform.terraform_support import TERRAFORM_DIR, load_stack, load_tfvars

# Nominal memory of the RDS classes the environments may pick (GiB), from AWS's instance class table.
RDS_MEMORY_GIB = {
    "db.t4g.micro": 1,
    "db.t4g.small": 2,
    "db.t4g.medium": 4,
    "db.t4g.large": 8,
    "db.t4g.xlarge": 16,
    "db.m7g.large": 8,
    "db.m7g.xlarge": 16,
    "db.m7g.2xlarge": 32,
    "db.m6i.large": 8,
    "db.m6i.xlarge": 16,
    "db.r7g.large": 16,
    "db.r7g.xlarge": 32,
    "db.r6g.large": 16,
}
# RDS for PostgreSQL's default: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000).
# DBInstanceClassMemory is what is left after the OS and RDS take their share; 90% of the nominal
# memory keeps the estimate on the safe side.
BYTES_PER_CONNECTION = 9531392
USABLE_MEMORY_SHARE = 0.9
# Outside the pool: RDS's superuser_reserved_connections (3), the migration Job (1) and two operators.
DIRECT_RESERVE = 3 + 1 + 2


def rds_max_connections(instance_class: str) -> int:
    assert instance_class in RDS_MEMORY_GIB, f"{instance_class}: add its memory to RDS_MEMORY_GIB to budget it"
    return min(int(RDS_MEMORY_GIB[instance_class] * 2**30 * USABLE_MEMORY_SHARE / BYTES_PER_CONNECTION), 5000)


def web_connections(rendered_releases) -> int:
    """At the HPA maximum plus one surging pod per release, each thread of each worker holds one connection."""
    total = 0
    for release in rendered_releases:
        settings = release.settings()["data"]
        deployment = release.one("Deployment")
        hpa = release.of_kind("HorizontalPodAutoscaler")
        pods = hpa[0]["spec"]["maxReplicas"] if hpa else deployment["spec"]["replicas"]
        pods += int(deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"])
        total += pods * int(settings["WEB_CONCURRENCY"]) * int(settings["GUNICORN_THREADS"])
    return total


def terraform_value(env: str, name: str):
    tfvars = load_tfvars(TERRAFORM_DIR.parent / "environments" / env / "terraform.tfvars")
    return tfvars[name] if name in tfvars else load_stack(TERRAFORM_DIR).variables[name]["default"]


def violations(env: str, rendered_releases) -> list[str]:
    wanted = web_connections(rendered_releases)
    primary = rds_max_connections(terraform_value(env, "db_instance_class"))
    pool = math.floor(primary * terraform_value(env, "db_proxy_max_connections_percent") / 100)
    found = []
    if wanted > pool:
        found.append(
            f"{env}: the releases may open {wanted} connections, RDS Proxy only {pool} "
            f"({terraform_value(env, 'db_proxy_max_connections_percent')}% of {primary})"
        )
    if pool + DIRECT_RESERVE > primary:
        found.append(f"{env}: RDS Proxy's {pool} plus {DIRECT_RESERVE} direct connections exceed max_connections {primary}")
    if terraform_value(env, "db_replica_enabled"):
        replica = rds_max_connections(terraform_value(env, "db_replica_instance_class") or terraform_value(env, "db_instance_class"))
        if wanted + DIRECT_RESERVE > replica:
            found.append(f"{env}: the releases may open {wanted} connections to the replica, it allows {replica - DIRECT_RESERVE}")
    return found


def test_every_environment_fits_its_connection_budget(rendered):
    for env, env_releases in rendered.items():
        assert violations(env, env_releases) == []


def test_the_budget_is_really_spent_by_the_releases(rendered):
    # prod at its ceiling: 3 releases x (12 + 1 surge) pods x 3 workers x 4 threads
    assert web_connections(rendered["prod"]) == 3 * 13 * 3 * 4


@pytest.mark.parametrize("raise_to", [{"autoscaling": {"maxReplicas": 16}}, {"gunicorn": {"threads": 12}}])
def test_raising_the_hpa_maximum_or_threads_past_the_budget_fails(chart, raise_to):
    raised = [render_release(chart, "prod", spec, raise_to) for spec in releases("prod")]
    found = violations("prod", raised)
    assert found and "RDS Proxy only" in found[0]


def test_prod_may_grow_to_15_pods_per_release_within_the_budget(chart):
    # docs/capacity.md's figure: 3 x (15 + 1) x 3 x 4 = 576 <= 608, and 16 (above) is one too many
    grown = [render_release(chart, "prod", spec, {"autoscaling": {"maxReplicas": 15}}) for spec in releases("prod")]
    assert violations("prod", grown) == []


def test_the_pgbouncer_twin_takes_the_largest_local_stack():
    # make up: 3 variants, each with a second slot during a rollout, 2 workers x 4 threads each
    assert 3 * 2 * 2 * 4 <= pgbouncer.MAX_CLIENT_CONN
    assert pgbouncer.DEFAULT_POOL_SIZE + DIRECT_RESERVE <= 100  # PostgreSQL's default max_connections
