"""The scale tier in the chart: web pods through the pool, the migration Job straight to the
instance, replica reads only in the web pods, and REDIS_URL from the secret Terraform writes."""

from __future__ import annotations

from chart_support import render_release
from stack.deploy.releases import releases
from tests.terraform.terraform_support import TERRAFORM_DIR, load_stack

POOLED = {
    "database": {
        "host": "pizza-prod.proxy-x.us-east-1.rds.amazonaws.com",
        "pooled": True,
        "directHost": "pizza-prod.x.us-east-1.rds.amazonaws.com",
        "replicaHost": "pizza-prod-replica.x.us-east-1.rds.amazonaws.com",
    }
}


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_web_pods_use_the_pool_and_the_migration_job_the_instance(chart):
    owner = render_release(chart, "prod", releases("prod")[0], POOLED)
    web = owner.settings()["data"]
    assert web["DATABASE_HOST"] == POOLED["database"]["host"] and web["DATABASE_POOLED"] == "true"
    assert web["DATABASE_REPLICA_HOST"] == POOLED["database"]["replicaHost"]
    job = owner.one("Job")["spec"]["template"]["spec"]["containers"][0]
    migrate = env_of(job)
    assert migrate["DATABASE_HOST"] == POOLED["database"]["directHost"]
    assert migrate["DATABASE_POOLED"] == "false" and "DATABASE_REPLICA_HOST" not in migrate


def test_without_a_direct_host_the_migration_job_uses_the_one_host(chart):
    owner = render_release(chart, "dev", releases("dev")[0])
    migrate = env_of(owner.one("Job")["spec"]["template"]["spec"]["containers"][0])
    assert migrate["DATABASE_HOST"] == owner.settings()["data"]["DATABASE_HOST"]


def test_redis_url_comes_from_the_secret_terraform_writes(rendered):
    cache_secret = load_stack(TERRAFORM_DIR).resource("aws_secretsmanager_secret", "cache")
    assert cache_secret["name"] == "${local.secret_path}/cache"  # pizza/<env>/cache
    version = load_stack(TERRAFORM_DIR).resource("aws_secretsmanager_secret_version", "cache")
    assert "url" in version["secret_string"] and "rediss://" in version["secret_string"]
    for env, env_releases in rendered.items():
        for release in env_releases:
            for external in release.of_kind("ExternalSecret"):  # the web pods' and the migration hook's copies
                refs = {d["secretKey"]: d["remoteRef"] for d in external["spec"]["data"]}
                assert refs["REDIS_URL"] == {"key": f"pizza/{env}/cache", "property": "url"}
