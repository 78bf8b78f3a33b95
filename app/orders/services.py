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


# What the customer reads when that happens (the form's pizza field, or the API's problem document).
PIZZA_GONE = "That pizza has just left the menu. Please choose another."


class PizzaUnavailable(Exception):
    """The chosen pizza left the menu between the form's check and the order's INSERT: nothing was stored."""


def order_fields(data: dict, visitor_id: str, channel: str, variant: str | None) -> dict:
    pizza = data["pizza"]
    price = unit_price(pizza, data["size"])
    return dict(
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


def place_order(data: dict, token: uuid.UUID, visitor_id: str = "", channel: str = "web", variant: str | None = None) -> tuple[Order, bool]:
    """Create the order for `token`, or return the one that token already created.

    `variant` is the variant that rendered the form (signed in the form); this process's variant otherwise.
    The chosen pizza is checked at the INSERT (the form may have read it from the menu cache):
    PizzaUnavailable when it has left the menu; its current price when that changed meanwhile.

    Returns (order, created). The unique constraint on form_token decides between concurrent
    retries: the second INSERT waits for the first to commit, fails, and reads the winner.
    """
    fields = order_fields(data, visitor_id, channel, variant)
    for _ in range(3):
        try:
            # One statement in autocommit (no BEGIN/COMMIT round trips); a savepoint only when the caller
            # holds a transaction, so a duplicate token cannot poison it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                order = insert_order(Order(form_token=token, **fields))
            if order is None:  # the pizza changed since the form read it: read it again
                fields = order_fields({**data, "pizza": current_pizza(fields["pizza"].pk)}, visitor_id, channel, variant)
                continue
            metrics.order_placed(channel)
            return order, True
        except IntegrityError:
            existing = find_by_token(token)
            if existing is not None:
                return existing, False
            # Otherwise a random reference collided (about 1 in 10^14): draw a new one.
    raise IntegrityError("could not allocate a unique order reference")


def current_pizza(pk: int):
    from .menu import active_pizza

    pizza = active_pizza(pk)
    if pizza is None:
        raise PizzaUnavailable(pk)
    return pizza


def insert_order(order: Order) -> Order | None:
    """INSERT `order`; None (nothing written) when its pizza is no longer on the menu at its price."""
    if connection.vendor != "postgresql":
        if current_pizza(order.pizza_id).price != order.pizza.price:
            return None
        order.save(force_insert=True)  # post_save feeds the experiment's counters (experiment.tracking)
        return order
    return insert_in_one_statement(order)


# orders_place_order (migration orders.0007): the pizza check, the INSERT and a web order's
# experiment counters in one statement and one commit, with plans PostgreSQL keeps per connection.
# The ORM's INSERT and post_save are bypassed on this path only; the counters are the same function
# post_save calls (experiment_record_order), so each web order is counted exactly once either way.
PLACE_ORDER_SQL = (
    "SELECT order_id, counted, count_error FROM orders_place_order("
    "%s, %s, %s::uuid, %s, %s::numeric, %s, %s, %s::numeric, %s::numeric, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s::numeric, %s, %s)"
)


def insert_in_one_statement(order: Order) -> Order | None:
    from experiment.tracking import counting_args, log_not_counted

    ops = connection.ops
    amount = day = shard = None  # only web orders feed the experiment's counters
    if order.channel == "web":
        _, _, amount, _, day, shard = counting_args(order.visitor_id, order.variant, order.total, order.created_at)
    params = [
        order.reference,
        order.access_token,
        str(order.form_token),
        order.pizza_id,
        ops.adapt_decimalfield_value(order.pizza.price, 7, 2),
        order.size,
        order.quantity,
        ops.adapt_decimalfield_value(order.unit_price, 7, 2),
        ops.adapt_decimalfield_value(order.total, 9, 2),
        order.customer_name,
        order.phone,
        order.address,
        order.comments,
        order.variant,
        order.visitor_id,
        order.channel,
        ops.adapt_datetimefield_value(order.created_at),
        amount,
        day,
        shard,
    ]
    with connection.cursor() as cursor:
        cursor.execute(PLACE_ORDER_SQL, params)
        order_id, _counted, count_error = cursor.fetchone()
    if order_id is None:
        return None
    order.pk = order_id
    order.updated_at = order.created_at
    order._state.adding = False
    order._state.db = connection.alias
    if count_error:
        log_not_counted(count_error.partition(":")[0], count_error)
    return order


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
