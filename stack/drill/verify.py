"""What the restored cluster must hold: every order acknowledged before T exactly once, none sent
after T, the bulk rows, the same schema and migration state as the primary had."""

from __future__ import annotations

from collections import Counter

from ..chaos.accounting import Result
from ..postgres import DisposablePostgres
from .load import BULK_NAME, TimedLoad

SCHEMA_SQL = """
SELECT 'column', table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL SELECT 'constraint', conrelid::regclass || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
ORDER BY 1, 2"""


def fingerprint(pg: DisposablePostgres) -> dict:
    """The schema (columns, indexes, constraints) and the applied migrations, to compare two clusters."""
    return {
        "schema": pg.query(SCHEMA_SQL),
        "migrations": pg.query("SELECT app, name FROM django_migrations ORDER BY app, name"),
    }


def verify_orders(restored: DisposablePostgres, load: TimedLoad, target: float, since_id: int, bulk: int, result: Result) -> dict:
    """The exactly-once accounting at the target; returns counts for the report."""
    rows = restored.query("SELECT form_token::text, extract(epoch FROM created_at) FROM orders_order WHERE id > %s", (since_id,))
    stored = Counter(token for token, _ in rows)
    before, after, across = load.split(target)
    counts = {
        "acked_before_t": len(before),
        "lost_before_t": sum(1 for t in before if t not in stored),
        "duplicates": sum(n - 1 for n in stored.values() if n > 1),
        "sent_after_t": len(after),
        "present_after_t": sum(1 for t in after if t in stored),
        "in_flight_at_t": len(across),
        "in_flight_kept": sum(1 for t in across if t in stored),
        "extra": sum(n for t, n in stored.items() if t not in load.sent_at),
        "bulk": restored.query("SELECT count(*) FROM orders_order WHERE customer_name = %s", (BULK_NAME,))[0][0],
    }
    recovered = [float(at) for t, at in rows if t in load.sent_at]
    counts["last_commit_gap_s"] = target - max(recovered) if recovered else None
    result.check(f"all {len(before)} orders acknowledged before T are restored (0 lost)", counts["lost_before_t"] == 0)
    result.check("each exactly once (0 duplicates)", counts["duplicates"] == 0)
    result.check(f"none of the {len(after)} orders sent after T is restored", counts["present_after_t"] == 0)
    result.check("nothing restored that the client did not send", counts["extra"] == 0)
    result.check(f"the {bulk} bulk orders are all there", counts["bulk"] == bulk)
    result.check("orders were placed on both sides of T", bool(before) and bool(after))
    return counts


def verify_schema(before: dict, restored: DisposablePostgres, result: Result) -> None:
    after = fingerprint(restored)
    result.check(f"schema intact ({len(before['schema'])} columns, indexes, constraints)", after["schema"] == before["schema"])
    result.check(f"migration state intact ({len(before['migrations'])} applied)", after["migrations"] == before["migrations"])
