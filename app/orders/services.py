"""Placing an order exactly once, whichever variant, retry or double click it comes from."""

from __future__ import annotations

import re
import uuid
from contextlib import nullcontext

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from .models import SIZE_FACTORS, Order

VISITOR_COOKIE = "pz_visitor"
VISITOR_ID = re.compile(r"^[0-9a-f]{32}$")  # what the experiment middleware puts in the cookie


def visitor_id(request) -> str:
    """The visitor cookie's random id, or "" when absent or not one of ours."""
    value = request.COOKIES.get(VISITOR_COOKIE, "")
    return value if VISITOR_ID.match(value) else ""


def find_by_token(token: uuid.UUID | None) -> Order | None:
    if token is None:
        return None
    return Order.objects.filter(form_token=token).first()


def place_order(data: dict, token: uuid.UUID, visitor_id: str = "", channel: str = "web", variant: str | None = None) -> tuple[Order, bool]:
    """Create the order for `token`, or return the one that token already created.

    `variant` is the variant that rendered the form (signed in the form); this process's variant otherwise.

    Returns (order, created). The unique constraint on form_token decides between concurrent
    retries: the second INSERT waits for the first to commit, fails, and reads the winner.
    """
    pizza = data["pizza"]
    unit_price = (pizza.price * SIZE_FACTORS[data["size"]]).quantize(pizza.price)
    fields = dict(
        pizza=pizza,
        size=data["size"],
        quantity=data["quantity"],
        unit_price=unit_price,
        total=unit_price * data["quantity"],
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
                return Order.objects.create(form_token=token, **fields), True
        except IntegrityError:
            existing = find_by_token(token)
            if existing is not None:
                return existing, False
            # Otherwise a random reference collided (about 1 in 10^14): draw a new one.
    raise IntegrityError("could not allocate a unique order reference")
