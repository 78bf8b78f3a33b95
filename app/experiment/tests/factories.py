"""Seed exposures and orders directly: the report reads the tables, whoever wrote them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from config.variants import Variant, VariantSet
from experiment.models import Exposure
from orders.models import Order
from orders.tests.factories import make_order as order_row

# A real browser's User-Agent: an empty one counts as a script and is not recorded.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def new_visitor() -> str:
    return uuid.uuid4().hex


def add_exposures(variant: str, count: int, day: date | None = None, visitors: list[str] | None = None) -> list[str]:
    """`count` new visitors (or the given ones) seen on `variant` on `day`; returns their ids."""
    day = day or timezone.localdate()
    visitors = visitors if visitors is not None else [new_visitor() for _ in range(count)]
    Exposure.objects.bulk_create([Exposure(day=day, visitor_id=v, variant=variant) for v in visitors])
    return visitors


def make_order(variant: str, visitor_id: str = "", total: str = "10.00", status: str = "received",
               day: date | None = None) -> Order:
    """orders' factory, with what the report reads up front: variant, visitor, amount, status, day."""
    when = timezone.now() if day is None else datetime.combine(day, time(12, 0), timezone.get_current_timezone())
    amount = Decimal(total)
    return order_row(variant=variant, visitor_id=visitor_id, unit_price=amount, total=amount, status=status,
                     created_at=when, updated_at=when)


def make_orders(variant: str, visitors: list[str], total: str = "10.00") -> list[Order]:
    return [make_order(variant, v, total) for v in visitors]


def variant_set(**weights: int) -> VariantSet:
    """A VariantSet like variants.yaml would give, e.g. variant_set(a=50, b=50)."""
    themes = ["classic", "bold", "minimal", "classic", "bold"]
    variants = {name: Variant(name, themes[i], weight) for i, (name, weight) in enumerate(weights.items())}
    return VariantSet(env="test", variants=variants, stickiness_seconds=86400, schema_owner=next(iter(variants)))
