"""A PostgreSQL outage: the disposable cluster stopped, then started again."""

from __future__ import annotations

import time

from ...postgres import DisposablePostgres


class Outage:
    """`with Outage(pg) as outage:` the database is down inside the block; `outage.down` and
    `outage.back` are the monotonic times it stopped and answered again."""

    def __init__(self, pg: DisposablePostgres, mode: str = "fast"):
        self.pg, self.mode = pg, mode
        self.down = self.back = 0.0

    def __enter__(self):
        self.pg.stop(self.mode)
        self.down = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.pg.start()
        self.back = time.monotonic()
