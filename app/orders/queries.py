"""The staff order table's query and its keyset cursor: what to fetch, in which order, from where."""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db import connections, router
from django.db.models import DateTimeField, F, Func, Q, QuerySet, Value
from django.db.models.lookups import LessThan
from django.utils import timezone

from .models import Order, Pizza
from .phone import digit_count, normalise_phone

PAGE_SIZE = 50


class StaffRow(NamedTuple):
    """One row of the staff table: plain values, not a model instance (building 51 Order and Pizza
    instances was half the page query's CPU, docs/bench.md)."""

    pk: int
    created_at: datetime
    reference: str
    pizza_name: str
    size: str
    quantity: int
    total: Decimal
    customer_name: str
    phone: str
    address: str
    comments: str
    variant: str
    status: str


# The columns the table shows, in StaffRow's order: fewer columns, a cheaper query to build and run.
STAFF_FIELDS = (
    "id",
    "created_at",
    "reference",
    "pizza__name",
    "size",
    "quantity",
    "total",
    "customer_name",
    "phone",
    "address",
    "comments",
    "variant",
    "status",
)


class Row(Func):
    """ROW(a, b): compared as a whole, so (created_at, id) < (t, n) is one range scan of the index."""

    function = "ROW"
    output_field = DateTimeField()


def staff_orders(filters: dict) -> QuerySet[Order]:
    """Orders matching the staff table's filters, newest first (the order the index walks)."""
    qs = Order.objects.all()
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("variant"):
        qs = qs.filter(variant=filters["variant"])
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=start_of(filters["date_from"]))
    if filters.get("date_to") and filters["date_to"] < date.max:  # the last representable day has no end
        qs = qs.filter(created_at__lt=start_of(filters["date_to"] + timedelta(days=1)))
    q = (filters.get("q") or "").strip()
    if q:
        # Each search form uses an index: reference and phone by equality, the name by prefix.
        condition = Q(reference=q.upper()) | Q(customer_name__startswith=q)
        if digit_count(q) >= 6:
            condition |= Q(phone=normalise_phone(q))
        qs = qs.filter(condition)
    return qs.order_by("-created_at", "-id")


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, timezone.get_current_timezone())


def page(qs: QuerySet[Order], cursor: tuple[datetime, int] | None) -> tuple[list[StaffRow], str | None]:
    """One page of `qs` after `cursor` and the cursor of the next page (None on the last one)."""
    if cursor:
        moment, pk = cursor
        qs = qs.filter(LessThan(Row(F("created_at"), F("id")), Row(Value(moment), Value(pk))))
    return split_page([StaffRow(*values) for values in qs.values_list(*STAFF_FIELDS)[: PAGE_SIZE + 1]])


def split_page(rows: list[StaffRow]) -> tuple[list[StaffRow], str | None]:
    """Up to PAGE_SIZE + 1 rows read -> the page, and the next page's cursor if that extra row came."""
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    return rows[:PAGE_SIZE], next_cursor


def staff_page(filters: dict, cursor: tuple[datetime, int] | None) -> tuple[list[StaffRow], str | None]:
    """The staff table's page for these filters after `cursor`, and the next page's cursor.

    With no filter (the first page and the older pages behind it: most of the kitchen's reading) the
    query is always the same, so it is one fixed statement (`unfiltered_rows`): building it with the
    ORM cost ~300 us of CPU a page, a seventh of the staff table's (docs/bench.md). Filters, and
    databases other than PostgreSQL, take the ORM's query (`page(staff_orders(filters), cursor)`).
    """
    alias = router.db_for_read(Order)
    if any(filters.values()) or connections[alias].vendor != "postgresql":
        return page(staff_orders(filters), cursor)
    return split_page(unfiltered_rows(alias, cursor))


def unfiltered_sql(after_cursor: bool) -> str:
    """What the ORM builds for page(staff_orders({}), cursor): STAFF_FIELDS, newest first, one row more than a page."""
    order, pizza = Order._meta, Pizza._meta
    columns = ", ".join(
        f'p."{pizza.get_field(name[7:]).column}"' if name.startswith("pizza__") else f'o."{order.get_field(name).column}"'
        for name in STAFF_FIELDS
    )
    where = 'WHERE ROW(o."created_at", o."id") < ROW(%s, %s) ' if after_cursor else ""
    return (
        f'SELECT {columns} FROM "{order.db_table}" o INNER JOIN "{pizza.db_table}" p ON p."id" = o."pizza_id" '
        f'{where}ORDER BY o."created_at" DESC, o."id" DESC LIMIT {PAGE_SIZE + 1}'
    )


def unfiltered_rows(alias: str, cursor: tuple[datetime, int] | None) -> list[StaffRow]:
    with connections[alias].cursor() as db:
        db.execute(unfiltered_sql(cursor is not None), list(cursor) if cursor else [])
        return [StaffRow(*values) for values in db.fetchall()]


def encode_cursor(order: Order | StaffRow) -> str:
    raw = f"{order.created_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor names, or None for anything that isn't one of ours."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, _, pk = raw.partition("|")
        moment = datetime.fromisoformat(stamp)
        if timezone.is_naive(moment):
            return None
        number = int(pk)
        return (moment, number) if 0 < number < 2**63 else None
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None


# What the confirmation and status pages show, in one fixed statement: the ORM's select_related +
# only() + get() of the same row was a tenth of the order flow's CPU (docs/bench.md).
CUSTOMER_FIELDS = (
    "id",
    "reference",
    "access_token",
    "customer_name",
    "address",
    "quantity",
    "size",
    "total",
    "status",
    "created_at",
    "pizza_id",
)


def customer_order(access_token: str) -> Order | None:
    """The order a customer's secret link names, with its pizza's name (the other fields deferred); None if none."""
    fields = [f for f in Order._meta.concrete_fields if f.attname in CUSTOMER_FIELDS]  # from_db wants the model's order
    columns = ", ".join(f'o."{f.column}"' for f in fields)
    sql = (
        f'SELECT {columns}, p."name" FROM "{Order._meta.db_table}" o JOIN "{Pizza._meta.db_table}" p ON p."id" = o."pizza_id" '
        'WHERE o."access_token" = %s'
    )
    alias = router.db_for_read(Order)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [access_token])
        row = cursor.fetchone()
    if row is None:
        return None
    order = Order.from_db(alias, [f.attname for f in fields], list(row[:-1]))
    order.pizza = Pizza.from_db(alias, ["id", "name"], [order.pizza_id, row[-1]])
    return order
