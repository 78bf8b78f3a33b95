"""The scale tier's settings as the chart sets them: pooled primary, replica, shared cache."""

import json

import pytest
from django.conf import settings
from django.urls import URLResolver, get_resolver, resolve

from ops.tests.test_settings import PRODUCTION, run

CHART = {  # what the chart's ConfigMap and Secret give a web pod behind RDS Proxy
    **{k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"},
    "DATABASE_HOST": "pizza-prod.proxy-x.us-east-1.rds.amazonaws.com",
    "DATABASE_USER": "pizza",
    "DATABASE_PASSWORD": "",
    "DATABASE_POOLED": "true",
    "DATABASE_REPLICA_HOST": "pizza-prod-replica.x.us-east-1.rds.amazonaws.com",
    "REDIS_URL": "rediss://:token@cache.invalid:6379/0",
}
SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
    "'databases': s.DATABASES, 'routers': getattr(s, 'DATABASE_ROUTERS', []), 'middleware': s.MIDDLEWARE,"
    "'caches': {k: v['BACKEND'] for k, v in s.CACHES.items()}, 'sessions': s.SESSION_ENGINE}, default=str))"
)


def settings_for(**env) -> dict:
    result = run(["-c", SHOW], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def behind_the_pool() -> dict:
    return settings_for(**CHART)


def test_a_pooled_primary_gets_no_session_settings_and_the_replica_keeps_its_timeout(behind_the_pool):
    found = behind_the_pool
    primary, replica = found["databases"]["default"], found["databases"]["replica"]
    assert "options" not in primary["OPTIONS"] and primary["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert replica["HOST"] == CHART["DATABASE_REPLICA_HOST"] and "statement_timeout" in replica["OPTIONS"]["options"]
    assert found["routers"] == ["config.routers.ReplicaRouter"] and "config.routers.ReplicaReadsMiddleware" in found["middleware"]
    # Both through the backend whose health check polls the socket (config/postgresql/), not Django's stock one.
    assert primary["ENGINE"] == replica["ENGINE"] == settings.POSTGRESQL_ENGINE == "config.postgresql"


def test_redis_url_shares_caches_and_sessions(behind_the_pool):
    found = behind_the_pool
    assert set(found["caches"]) == {"default", "waffle", "counters"}
    assert set(found["caches"].values()) == {"config.cache.ResilientRedisCache"}
    assert found["sessions"] == "ops.sessions.cached_db"


def test_without_pool_replica_or_redis_nothing_changes():
    found = settings_for(**PRODUCTION)
    assert "statement_timeout" in found["databases"]["default"]["OPTIONS"]["options"]
    assert "replica" not in found["databases"] and found["routers"] == []
    assert set(found["caches"].values()) == {"django.core.cache.backends.locmem.LocMemCache"}
    assert found["sessions"] == "ops.sessions.db"


def route_names(patterns, namespace: str = ""):
    """Every "namespace:name" the URLconf defines, as request.resolver_match.view_name spells it."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from route_names(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif pattern.name:
            yield namespace + pattern.name


def test_every_replica_read_view_is_a_route_name():
    """The router matches view names as strings: a renamed route would silently send its reads back
    to the primary (as the API's move to api-v1:menu nearly did), so each name must still exist."""
    names = set(route_names(get_resolver().url_patterns))
    assert {resolve("/staff/orders/").view_name, resolve("/api/v1/menu").view_name} <= names  # app and API routes alike
    missing = sorted(set(settings.REPLICA_READ_VIEWS) - names)
    assert not missing, f"REPLICA_READ_VIEWS names no route: {missing}"
