"""`make screenshots`: every page of every theme at phone and desktop size, from the real local
stack (HAProxy + A, B, C on PostgreSQL), into docs/screenshots/. The README shows these files.

    make screenshots        # uses TEST_DATABASE_URL, or starts a disposable PostgreSQL
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE), str(HERE.parent / "stack"), str(REPO)]

import psycopg2  # noqa: E402
import requests  # noqa: E402
from browser_support import STAFF_PASSWORD, VIEWPORTS, chromium, force_variant, log_in  # noqa: E402

from stack.local import PortPlan, Stack  # noqa: E402
from stack.postgres import drop_database  # noqa: E402
from stack_support import fresh_database, place_order  # noqa: E402

OUT = REPO / "docs" / "screenshots"
# (file name, path, signed in as staff): the pages a customer, the kitchen and marketing see.
PAGES = [
    ("menu", "/", False),
    ("order", "/order/", False),
    ("confirmation", "/orders/{token}/confirmed/", False),
    ("status", "/orders/{token}/", False),
    ("sign-in", "/accounts/login/", False),
    ("staff-orders", "/staff/orders/", True),
    ("cancel", "/staff/orders/{reference}/cancel/", True),
    ("experiment", "/staff/experiment/", True),
]


def seed(stack: Stack) -> tuple[str, str]:
    """A few orders so the tables have rows; returns one order's (reference, token)."""
    names = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]
    for i, name in enumerate(names):
        reference, _ = place_order(requests.Session(), stack.variant_url(stack.names[i % len(stack.names)]).rstrip("/"), name)
    with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cur:
        cur.execute(
            "UPDATE orders_order SET comments = 'Ring twice, the bell is broken.' WHERE reference = %s RETURNING access_token", (reference,)
        )
        return reference, cur.fetchone()[0]


def shoot(stack: Stack, browser, reference: str, token: str) -> list[Path]:
    written = []
    for name in stack.names:
        theme = stack.variants.variants[name].theme
        for size, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1)
            base = force_variant(context, stack, name)
            page = context.new_page()
            signed_in = False
            for page_name, path, staff in PAGES:
                if staff and not signed_in:
                    log_in(page, base, STAFF_PASSWORD)
                    signed_in = True
                page.goto(base + path.format(reference=reference, token=token))
                target = OUT / theme / f"{page_name}-{size}.png"
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target))
                written.append(target)
                if page_name == "menu" and size == "desktop":  # the README's first table
                    page.screenshot(path=str(OUT / f"{theme}.png"))
            context.close()
    return written


def main() -> int:
    entry = int(os.environ.get("PIZZA_SCREENSHOT_PORT", "39000"))
    database_url = fresh_database(os.environ.get("TEST_DATABASE_NAME", "pizza_test") + "_screens")
    with tempfile.TemporaryDirectory() as state:
        stack = Stack(env="dev", state_dir=Path(state), ports=PortPlan(entry), database_url=database_url, quiet=True, workers=1, threads=4)
        try:
            stack.start(staff_password=STAFF_PASSWORD)
            reference, token = seed(stack)
            with chromium() as browser:
                written = shoot(stack, browser, reference, token)
        finally:
            stack.stop()
            drop_database(os.environ["TEST_DATABASE_URL"], database_url.rsplit("/", 1)[1])
    print(f"{len(written)} screenshots in {OUT.relative_to(REPO)}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
