"""Seed the experiment through its own write path (tracking), or its counters directly for big samples."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from config.variants import Variant, VariantSet
from experiment import tracking
from experiment.models import Assignment
from orders.models import Order, Status
from orders.tests import factories as orders_factories

# A real browser's User-Agent: anything else counts as a script and is not recorded.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def new_visitor() -> str:
    return uuid.uuid4().hex


def at_noon(day: date | None) -> datetime:
    return timezone.now() - timedelta(minutes=5) if day is None else datetime.combine(day, time(12, 0), timezone.get_current_timezone())


def add_exposures(variant: str, count: int, day: date | None = None, visitors: list[str] | None = None) -> list[str]:
    """`count` new visitors (or the given ones) first shown `variant` on `day`, recorded as the beacon records them."""
    visitors = visitors if visitors is not None else [new_visitor() for _ in range(count)]
    for visitor in visitors:
        tracking.record_exposure(visitor, variant, now=at_noon(day))
    return visitors


def bulk_visitors(variant: str, count: int, day: date | None = None) -> list[str]:
    """Like add_exposures for many visitors at once: the same rows and counters, two statements."""
    when = at_noon(day)
    visitors = [new_visitor() for _ in range(count)]
    Assignment.objects.bulk_create(
        [Assignment(visitor_id=v, variant=variant, day=timezone.localdate(when), first_seen=when) for v in visitors]
    )
    tracking.add_to_counts(timezone.localdate(when), variant, 0, visitors=count)
    return visitors


def seed_counts(
    variant: str, visitors: int, converters: int = 0, revenue: float = 0.0, revenue_sq: float = 0.0, day: date | None = None
) -> None:
    """Counters for a large sample without writing one row per visitor (each converter one order)."""
    tracking.add_to_counts(
        day or timezone.localdate(),
        variant,
        0,
        visitors=visitors,
        converters=converters,
        orders=converters,
        revenue=Decimal(f"{revenue:.2f}"),
        revenue_sq=revenue_sq,
    )


def make_order(
    variant: str,
    visitor_id: str = "",
    total: str = "10.00",
    # A TextChoices member is a str; without django-stubs mypy reads it as its (value, label) tuple.
    status: str = Status.RECEIVED,  # type: ignore[assignment]
    day: date | None = None,
    channel: str = "web",
) -> Order:
    """One pizza for `total`, ordered by `visitor_id` from `variant` now (or at 13:00 on `day`)."""
    when = timezone.now() if day is None else datetime.combine(day, time(13, 0), timezone.get_current_timezone())
    return orders_factories.make_order(
        variant=variant, visitor_id=visitor_id, unit_price=Decimal(total), status=status, created_at=when, updated_at=when, channel=channel
    )


def make_orders(variant: str, visitors: list[str], total: str = "10.00") -> list[Order]:
    return [make_order(variant, v, total) for v in visitors]


def variant_set(**weights: int) -> VariantSet:
    """A VariantSet like variants.yaml would give, e.g. variant_set(a=50, b=50)."""
    themes = ["classic", "bold", "minimal", "classic", "bold"]
    variants = {name: Variant(name, themes[i], weight) for i, (name, weight) in enumerate(weights.items())}
    return VariantSet(env="test", variants=variants, stickiness_seconds=86400, schema_owner=next(iter(variants)))
