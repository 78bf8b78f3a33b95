"""Orders for the drill: the chaos harness's load generator, with the wall time of each order's
first send and of its acknowledgement (the restore target is a wall time), and the bulk rows of
the scaled form."""

from __future__ import annotations

import time

from ..chaos.load import Load
from ..postgres import DisposablePostgres
from .cluster import execute

BULK_NAME = "Restore Drill Bulk"  # the customer name of bulk rows: the verification counts them apart


class TimedLoad(Load):
    """stack.chaos.load.Load, noting when each order was first sent and when it was acknowledged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent_at: dict[str, float] = {}
        self.acked_at: dict[str, float] = {}

    def _note_attempt(self, token: str) -> None:
        now = time.time()
        with self.stats.lock:
            self.sent_at.setdefault(token, now)
        super()._note_attempt(token)

    def _note_ack(self, token: str, reference: str) -> None:
        super()._note_ack(token, reference)
        now = time.time()
        with self.stats.lock:
            self.acked_at.setdefault(token, now)

    def split(self, target: float) -> tuple[set, set, set]:
        """(acknowledged before target, first sent after target, in flight across it)."""
        with self.stats.lock:
            before = {t for t, at in self.acked_at.items() if at < target}
            after = {t for t, at in self.sent_at.items() if at > target}
            across = set(self.sent_at) - before - after
        return before, after, across


def insert_bulk(pg: DisposablePostgres, count: int, batch: int = 250_000) -> float:
    """`count` orders in one statement per batch (generate_series), spread over the last 90 days;
    returns seconds. The rows look like real ones so indexes and table size grow as they would."""
    start = time.monotonic()
    pizza = pg.query("SELECT min(id) FROM orders_pizza")[0][0]
    for offset in range(0, count, batch):
        n = min(batch, count - offset)
        execute(
            pg,
            """INSERT INTO orders_order (reference, access_token, form_token, pizza_id, size, quantity, unit_price,
                   total, customer_name, phone, address, comments, variant, visitor_id, channel, status, created_at, updated_at)
               SELECT 'BULK' || lpad(to_hex(%(offset)s + g), 12, '0'), md5(random()::text) || md5(random()::text),
                      gen_random_uuid(), %(pizza)s, 'medium', 1 + g %% 3, 10.00, 10.00 * (1 + g %% 3), %(name)s,
                      '+45 12 34 56 78', g || ' Bulk Street', '', chr(97 + g %% 3), '', 'api', 'delivered',
                      now() - (g %% 7776000) * interval '1 second', now()
               FROM generate_series(1, %(n)s) AS g""",
            {"offset": offset, "pizza": pizza, "name": BULK_NAME, "n": n},
        )
    execute(pg, "ANALYZE orders_order")
    return time.monotonic() - start
