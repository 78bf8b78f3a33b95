"""The active menu, read once and shared through the cache (Redis when REDIS_URL is set).

The landing page and the API's menu are the most requested reads; they change only when staff
edit a pizza in the admin. Saving or deleting a pizza drops the shared entry (at once and on commit), so with
Redis every pod of every variant shows the change on its next request; without Redis each process
keeps its own copy for at most MENU_SECONDS. The order form validates the chosen pizza against a
per-process copy of the pizzas chosen lately (menu_pizza); the order's INSERT checks it again in the
database (orders.services.place_order), so a pizza withdrawn meanwhile is refused with a message,
never ordered, and a changed price is the new one.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

from .models import Pizza

# The format number changes whenever what is cached changes shape, so versions side by side never
# read each other's entries.
MENU_KEY = "menu:1"
MENU_SECONDS = 60


def active_pizzas() -> list[Pizza]:
    """The active pizzas in menu order: from the cache, else from the database (then cached)."""
    pizzas = cache.get(MENU_KEY)
    if pizzas is None:
        pizzas = list(Pizza.objects.filter(active=True))
        cache.set(MENU_KEY, pizzas, MENU_SECONDS)
    return pizzas


def forget_menu(sender=None, **kwargs) -> None:
    """post_save / post_delete of Pizza: drop the shared copy now, and again once the change is
    committed (a reader between the two may have cached the menu as it was before the commit)."""
    cache.delete(MENU_KEY)
    forget_chosen()
    transaction.on_commit(lambda: cache.delete(MENU_KEY))


# The pizzas order forms chose lately, per process: pk -> (when read, the pizza). Only pizzas found on the
# menu are kept (a handful); the shared menu entry above is left alone, so what fills it stays the pages'.
_chosen: dict[int, tuple[float, Pizza]] = {}


def menu_pizza(pk: int) -> Pizza | None:
    """The active pizza `pk` as read at most MENU_SECONDS ago in this process, else from the database.
    The order's INSERT checks it once more (orders.services), so a pizza withdrawn or repriced since
    is refused or charged at its new price, never ordered as it was."""
    kept = _chosen.get(pk)
    if kept is not None and time.monotonic() - kept[0] < MENU_SECONDS:
        return kept[1]
    pizza = active_pizza(pk)
    if pizza is not None:
        _chosen[pk] = (time.monotonic(), pizza)
    return pizza


def forget_chosen() -> None:
    _chosen.clear()


def active_pizza(pk: int) -> Pizza | None:
    """The active pizza `pk` straight from the database, never from the cache (a pizza withdrawn a
    moment ago is refused, not ordered), or None.

    A fixed raw statement rather than the queryset's `get()`: building that query was a fifth of the
    order POST's CPU (docs/bench.md); this costs a third as much. Routed like any ORM read.
    """
    meta = Pizza._meta
    table, key, active = meta.db_table, meta.pk.column, meta.get_field("active").column
    found = list(Pizza.objects.raw(f'SELECT * FROM "{table}" WHERE "{key}" = %s AND "{active}"', [pk]))
    return found[0] if found else None
