"""What the shop does, whichever page or API asks: open or closed, placing an order exactly once,
moving an order along its statuses."""

from __future__ import annotations

import re
import uuid
from contextlib import nullcontext

import waffle
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from ops import metrics

from .models import SIZE_FACTORS, TRANSITIONS, Order, Status

# The waffle switch that closes ordering on every variant at once (they share the database).
ORDERS_OPEN = "orders_open"

VISITOR_COOKIE = "pz_visitor"
VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")  # what the experiment middleware puts in the cookie


def visitor_id(request) -> str:
    """The visitor cookie's random id, or "" when absent or not one of ours."""
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    return value if VISITOR_ID.match(value) else ""


def orders_open() -> bool:
    return waffle.switch_is_active(ORDERS_OPEN)


def parse_token(value) -> uuid.UUID | None:
    """The one-time token of a form or an Idempotency-Key header; None when absent or malformed."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def find_by_token(token: uuid.UUID | None) -> Order | None:
    if token is None:
        return None
    return Order.objects.filter(form_token=token).first()


def unit_price(pizza, size: str):
    """The price of one pizza of `size`, rounded like its menu price."""
    return (pizza.price * SIZE_FACTORS[size]).quantize(pizza.price)


# The fields a customer chooses; two submissions with equal values here are the same order.
ORDER_DETAILS = ("pizza", "size", "quantity", "customer_name", "phone", "address", "comments")


def order_matches(order: Order, data: dict) -> bool:
    """True when `data` (an OrderForm's cleaned_data) describes `order` exactly: a plain retry."""
    return all(getattr(order, name) == data.get(name, "") for name in ORDER_DETAILS)


def place_order(data: dict, token: uuid.UUID, visitor_id: str = "", channel: str = "web", variant: str | None = None) -> tuple[Order, bool]:
    """Create the order for `token`, or return the one that token already created.

    `variant` is the variant that rendered the form (signed in the form); this process's variant otherwise.

    Returns (order, created). The unique constraint on form_token decides between concurrent
    retries: the second INSERT waits for the first to commit, fails, and reads the winner.
    """
    pizza = data["pizza"]
    price = unit_price(pizza, data["size"])
    fields = dict(
        pizza=pizza,
        size=data["size"],
        quantity=data["quantity"],
        unit_price=price,
        total=price * data["quantity"],
        customer_name=data["customer_name"],
        phone=data["phone"],
        address=data["address"],
        comments=data.get("comments", ""),
        variant=variant or settings.VARIANT,
        visitor_id=visitor_id,
        channel=channel,
    )
    for _ in range(3):
        try:
            # One INSERT in autocommit (no BEGIN/COMMIT round trips); a savepoint only when the caller
            # holds a transaction, so a duplicate token cannot poison it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                order = Order.objects.create(form_token=token, **fields)
            metrics.order_placed(channel)
            return order, True
        except IntegrityError:
            existing = find_by_token(token)
            if existing is not None:
                return existing, False
            # Otherwise a random reference collided (about 1 in 10^14): draw a new one.
    raise IntegrityError("could not allocate a unique order reference")


def change_status(order_id: int, expected: str, new: str, by: str = "") -> tuple[bool, str]:
    """Compare-and-set: move an order from `expected` to `new` on behalf of user `by`, or say why not.

    One UPDATE ... WHERE status = expected: of two staff clicking at once, exactly one matches a row.
    """
    if new not in TRANSITIONS.get(expected, ()):
        metrics.status_change(expected, new, "invalid")
        allowed = ", ".join(TRANSITIONS.get(expected, ())) or "none"
        return False, f"An order cannot go from {expected!s} to {new!s} (allowed next: {allowed})."
    updated = Order.objects.filter(pk=order_id, status=expected).update(status=new, updated_at=timezone.now(), status_changed_by=by)
    metrics.status_change(expected, new, "changed" if updated else "conflict")
    if updated:
        return True, f"Order moved to {Status(new).label}."
    current = Order.objects.filter(pk=order_id).values("status", "status_changed_by", "updated_at").first()
    if current is None:
        return False, "That order does not exist."
    who = current["status_changed_by"] or "another staff member"
    when = timezone.localtime(current["updated_at"]).strftime("%H:%M")
    return False, f"Not changed: someone else already moved this order to {Status(current['status']).label} ({who}, {when})."
