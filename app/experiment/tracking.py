"""The writes behind the Experiment page: a visitor's first exposure, crossovers, and counted orders.

Each event touches one Assignment row and adds to one DailyCount row in the same transaction, so
the counters always equal what the assignment table says, and the page never scans either table.
"""

from __future__ import annotations

import logging
import random
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ops import metrics

from .models import Assignment, DailyCount

log = logging.getLogger("pizza.experiment")

SHARDS = 8
COUNTERS = ("visitors", "converters", "orders", "revenue", "revenue_sq", "crossovers", "unattributed")


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _shard(visitor_id: str) -> int:
    # Without a visitor (unattributed orders) any shard will do: spread them too.
    return int(visitor_id[:2], 16) % SHARDS if visitor_id else random.randrange(SHARDS)


def add_to_counts(day, variant: str, shard: int, **deltas) -> None:
    """One upsert that adds `deltas` to the (day, variant, shard) row; PostgreSQL and SQLite accept it."""
    columns = [c for c in COUNTERS if c in deltas]
    table = _table(DailyCount)
    sql = (
        f"INSERT INTO {table} (day, variant, shard, {', '.join(columns)}) VALUES (%s, %s, %s, {', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT (day, variant, shard) DO UPDATE SET " + ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns)
    )
    values = [connection.ops.adapt_datefield_value(day), variant, shard]
    for c in columns:
        value = deltas[c]
        values.append(connection.ops.adapt_decimalfield_value(value, 16, 2) if isinstance(value, Decimal) else value)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def record_exposure(visitor_id: str, variant: str, now=None) -> str:
    """'new' for a first exposure, 'crossover' for a first sight on another variant, '' otherwise."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    table = _table(Assignment)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (visitor_id, variant, day, first_seen, crossed, orders, revenue) "
            "VALUES (%s, %s, %s, %s, %s, 0, 0) ON CONFLICT (visitor_id) DO NOTHING RETURNING visitor_id",
            [visitor_id, variant, connection.ops.adapt_datefield_value(day), connection.ops.adapt_datetimefield_value(now), False],
        )
        if cursor.fetchone():
            add_to_counts(day, variant, _shard(visitor_id), visitors=1)
            metrics.exposure_recorded()
            return "new"
        # Seen before: on another variant for the first time, this visitor is a crossover (once).
        cursor.execute(
            f"UPDATE {table} SET crossed = %s WHERE visitor_id = %s AND variant <> %s AND crossed = %s RETURNING day, variant",
            [True, visitor_id, variant, False],
        )
        row = cursor.fetchone()
        if row:
            add_to_counts(row[0], row[1], _shard(visitor_id), crossovers=1)
            return "crossover"
    return ""


def capped(total: Decimal) -> Decimal:
    return min(Decimal(total), settings.EXPERIMENT_REVENUE_CAP)


def record_order(visitor_id: str, variant: str, total: Decimal, created_at) -> bool:
    """Credit an order to its visitor's first variant; True when counted.

    Counted only when the visitor was exposed before the order was placed; otherwise it is tallied
    as unattributed on the variant that took it, on the order's day.
    """
    amount = capped(total)
    if connection.vendor == "postgresql":
        return _record_order_in_one_statement(visitor_id, variant, amount, created_at)
    if visitor_id:
        table = _table(Assignment)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET orders = orders + 1, revenue = revenue + %s "
                "WHERE visitor_id = %s AND first_seen <= %s RETURNING day, variant, orders, revenue",
                [connection.ops.adapt_decimalfield_value(amount, 12, 2), visitor_id, connection.ops.adapt_datetimefield_value(created_at)],
            )
            row = cursor.fetchone()
            if row:
                day, credited, orders, revenue = row
                after = float(revenue)
                before = after - float(amount)
                add_to_counts(
                    day,
                    credited,
                    _shard(visitor_id),
                    orders=1,
                    converters=1 if orders == 1 else 0,
                    revenue=amount,
                    revenue_sq=after * after - before * before,
                )
                return True
    # One statement in autocommit: no transaction needed for a single upsert.
    add_to_counts(timezone.localdate(created_at), variant, _shard(visitor_id), unattributed=1)
    return False


# PostgreSQL: the same as the three statements above (UPDATE the assignment, then add to the cohort's
# day, or else to the order's day as unattributed) in one call of a PL/pgSQL function (migration
# experiment.0003): one round trip instead of four, atomic by itself, and its plans are kept per
# connection (the same writes as one CTE cost 0.6 ms of planning per order, docs/bench.md).
# orders_place_order calls the same function in the order's own statement (orders.services).
RECORD_ORDER_SQL = "SELECT experiment_record_order(%s, %s, %s::numeric, %s::timestamptz, %s::date, %s)"


def counting_args(visitor_id: str, variant: str, total: Decimal, created_at) -> tuple:
    """What experiment_record_order adds for one web order, in its argument order: the visitor (None
    without one: no assignment can match), the variant, the capped amount, the order's time, its day
    in the shop's time zone, the shard."""
    return (
        visitor_id or None,
        variant,
        connection.ops.adapt_decimalfield_value(capped(total), 12, 2),
        connection.ops.adapt_datetimefield_value(created_at),
        connection.ops.adapt_datefield_value(timezone.localdate(created_at)),
        _shard(visitor_id),
    )


def _record_order_in_one_statement(visitor_id: str, variant: str, amount: Decimal, created_at) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(RECORD_ORDER_SQL, counting_args(visitor_id, variant, amount, created_at))
        return bool(cursor.fetchone()[0])


def order_created(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of Order: web orders feed the counters; a failure is logged, never the customer's problem."""
    if not created or raw or instance.channel != "web":
        return
    try:
        record_order(instance.visitor_id, instance.variant, instance.total, instance.created_at)
    except DatabaseError as exc:
        log_not_counted(type(exc).__name__, str(exc))


def log_not_counted(cause: str, error: str = "") -> None:
    log.warning("order not counted for the experiment: %s", cause, extra={"error": error.strip()[:300]})
