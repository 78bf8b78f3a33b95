"""2. Mixed versions: one variant on code one expand migration ahead (applied by migrate_safely),
the others on the older code, under load; then back (a rollback on the schema that stays ahead)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ...http import http_get
from ...local.haproxy import server_name
from ..harness import ChaosError, say

NUMBER = 2
NAME = "mixed versions"
WINDOW_MAX = 20.0  # seconds the mixed window may last while waiting for every variant to serve


def add_expand_step(app_dir: Path) -> str:
    """One backward-compatible step on top of the newest orders migration: a nullable column that
    the newer code declares and the older code simply never mentions."""
    migrations = app_dir / "orders" / "migrations"
    names = sorted(p.stem for p in migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))
    if not names:
        raise ChaosError("no orders migrations found")
    latest = names[-1]
    name = f"{int(latest[:4]) + 1:04d}_chaos_expand_note"
    (migrations / f"{name}.py").write_text(
        "from django.db import migrations, models\n\n\n"
        "class Migration(migrations.Migration):\n"
        f'    dependencies = [("orders", "{latest}")]\n'
        "    operations = [\n"
        '        migrations.AddField("order", "chaos_note", models.CharField(max_length=40, null=True, blank=True)),\n'
        "    ]\n"
    )
    models = app_dir / "orders" / "models.py"
    text = models.read_text()
    marker = "class Order(models.Model):\n"
    if marker not in text:
        raise ChaosError("orders/models.py has no `class Order(models.Model):` to extend")
    models.write_text(text.replace(marker, marker + "    chaos_note = models.CharField(max_length=40, null=True, blank=True)\n", 1))
    return name


def run(h, result) -> None:
    variant = h.stack.variants.schema_owner
    ahead = h.copy_app("expand")
    migration = add_expand_step(ahead)
    say(f"  applying {migration} with migrate_safely from the newer code")
    migrated = h.stack.manage("migrate_safely", app_dir=ahead, env={"VARIANT": variant})
    result.notes.append(migrated.stdout.strip().splitlines()[-1] if migrated.stdout.strip() else "migrated")
    version = "chaos-expand"

    def action(load):
        applied = h.pg.query("SELECT count(*) FROM django_migrations WHERE app = 'orders' AND name = %s", (migration,))[0][0]
        result.check(f"expand step {migration} applied before any process runs it", applied == 1)
        # Old code on the newer schema first, under load, then one variant rolls onto the new code.
        time.sleep(h.args.settle)
        slot = h.roll(variant, result, app_dir=ahead, env={"APP_VERSION": version})
        _, _, body = http_get(h.stack.variant_url(variant, "/healthz", slot), timeout=5)
        running = json.loads(body).get("version")
        result.check(f"{server_name(variant, slot)} runs the newer code (version {running})", running == version)
        window_start = time.monotonic()
        time.sleep(max(h.args.duration / 2, 3))
        # Visitors are sticky: a short window can miss a variant by chance. Wait (bounded) until each served.
        served = load.stats.served_by(window_start)
        while not all(served.get(v, 0) > 0 for v in h.stack.names) and time.monotonic() - window_start < WINDOW_MAX:
            time.sleep(0.5)
            served = load.stats.served_by(window_start)
        result.notes.append(f"mixed window served by {dict(served)}")
        result.check("all three variants served orders and pages while mixed", all(served.get(v, 0) > 0 for v in h.stack.names))
        # ...and back: the older code again, on the schema that stays ahead (a rollback).
        h.roll(variant, result)

    h.run_load_scenario(result, action)
    result.check("0 failed requests on all three (first attempts included)", not result.stats.failed)
