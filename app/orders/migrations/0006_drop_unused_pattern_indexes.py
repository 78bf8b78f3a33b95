# Expand-safe: drops two indexes no query of any release uses, without blocking order writes.
# Django gives every unique CharField a second, varchar_pattern_ops index for LIKE 'x%'; the order's
# reference and access token are only ever compared whole (=, or the admin's iexact, which neither
# index serves), so these two cost every INSERT two more random-key B-tree insertions for nothing
# (about a fifth of the order INSERT's database CPU, docs/bench.md). The unique indexes stay.

from django.db import migrations

from ops.migration_ops import RunSQLOnPostgres

PATTERN_INDEXES = {
    "orders_order_reference_d902bed1_like": "reference",
    "orders_order_access_token_c3d6d645_like": "access_token",
}


class Migration(migrations.Migration):
    atomic = False  # DROP/CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("orders", "0005_status_changed_by"),
    ]

    operations = [
        RunSQLOnPostgres(
            f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"',
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "orders_order" ("{column}" varchar_pattern_ops)',
        )
        for name, column in PATTERN_INDEXES.items()
    ]
