"""Orders made directly in the database, for tests that need some to exist."""

import importlib
import uuid
from decimal import Decimal

from waffle.models import Switch

from orders.models import Order, Pizza

MENU_MIGRATION = "orders.migrations.0002_menu_and_switch"


def ensure_seed() -> None:
    """The menu and the open switch, as the data migration leaves them.

    Transactional tests flush every table afterwards, so later tests put the seed back.
    """
    menu = importlib.import_module(MENU_MIGRATION).MENU
    for position, (name, description, price) in enumerate(menu):
        Pizza.objects.get_or_create(name=name, defaults={"description": description, "price": Decimal(price), "position": position})
    Switch.objects.get_or_create(name="orders_open", defaults={"active": True})


def first_pizza() -> Pizza:
    """The menu's first pizza, seeding the menu and the switch again where a transactional test flushed them."""
    pizza = Pizza.objects.order_by("pk").first()
    if pizza is None:
        ensure_seed()
        pizza = Pizza.objects.order_by("pk").first()
    return pizza


def make_order(**overrides) -> Order:
    """An order as the form would store it (the experiment's counters see it too); any field can be overridden."""
    pizza = overrides.pop("pizza", None) or first_pizza()
    fields = dict(
        form_token=uuid.uuid4(),
        pizza=pizza,
        size="medium",
        quantity=1,
        unit_price=pizza.price,
        total=pizza.price,
        customer_name="Grace Hopper",
        phone="+4511223344",
        address="2 Compiler Street",
        variant="a",
    )
    fields.update(overrides)
    if "total" not in overrides:
        fields["total"] = Decimal(fields["unit_price"]) * fields["quantity"]
    return Order.objects.create(**fields)
