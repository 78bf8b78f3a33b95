"""Facts about migrations shared by migrate_safely, the gate and /healthz."""

from __future__ import annotations

from django.db import connections
from django.db.migrations.loader import MigrationLoader

# Our own apps: the gate and the contract rules apply to these.
PROJECT_APPS = ("orders", "ops", "experiment", "api")
# The key of the PostgreSQL advisory lock that serialises migration runs (any fixed 64-bit number).
MIGRATION_LOCK_KEY = 7_277_000_001


def number(name: str) -> int:
    """'0004_add_x' -> 4."""
    head = name.split("_", 1)[0]
    return int(head) if head.isdigit() else -1


def known_leaves() -> dict[str, str]:
    """The newest migration this code knows, per project app (what /healthz reports)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {app: name for app, name in loader.graph.leaf_nodes() if app in PROJECT_APPS}


def contract_rule(migration) -> str | None:
    """A contract step says `contract_safe_from = "<migration name>"`: the first expand migration
    whose code no longer uses what this step removes. None for an ordinary (expand) migration."""
    return getattr(migration, "contract_safe_from", None)


def pending_plan(alias: str = "default"):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[alias])
    return [m for m, backwards in executor.migration_plan(executor.loader.graph.leaf_nodes()) if not backwards]


def parse_running(spec: str) -> dict[str, dict[str, str]]:
    """'b=orders.0003_x,c=orders.0004_y' -> {'b': {'orders': '0003_x'}, 'c': {'orders': '0004_y'}}."""
    running: dict[str, dict[str, str]] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        release, _, leaf = item.partition("=")
        app, _, name = leaf.partition(".")
        if not release or not app or not name:
            raise ValueError(f"--running takes release=app.migration items, got {item!r}")
        running.setdefault(release, {})[app] = name
    return running


def contract_violations(pending, running: dict[str, dict[str, str]]) -> list[str]:
    """Why each pending contract step is unsafe for the releases still running, if it is."""
    problems = []
    for migration in pending:
        safe_from = contract_rule(migration)
        if not safe_from:
            continue
        for release, leaves in sorted(running.items()):
            leaf = leaves.get(migration.app_label)
            if leaf is None or number(leaf) < number(safe_from):
                problems.append(
                    f"{migration.app_label}.{migration.name} removes what release {release} still uses: "
                    f"it runs code up to {migration.app_label}.{leaf or '(unknown)'}, and this step is safe "
                    f"only once every release runs {migration.app_label}.{safe_from} or newer"
                )
    return problems
