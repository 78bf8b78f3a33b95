"""The one port plan: every port a local stack listens on, derived from one base.

A stack owns the 100 ports base .. base+99 and nothing else, so two stacks on one machine never
meet if their bases are 100 apart (`make up` 8000, the test stacks in TEST_PORTS' blocks above
PIZZA_TEST_PORT, `make chaos` 18000, `make bench` 28000 / 28100 with --quick):

    base + 0                  HAProxy: the weighted, sticky split (the entry point)
    base + 10*(slot-1) + 1+i  variant number i (a=0, b=1, c=2, ...) in process slot 1..9;
                              slot 1 is a variant's normal process (a 8001, b 8002, c 8003),
                              slot 2 its surge slot for a rolling restart (8011, 8012, 8013),
                              slots 3..9 extra processes the bench starts beside HAProxy
    base + 10                 a shared cache (redis-server) a harness starts beside the stack
                              (`make chaos` scenario 12; the multiples of ten below 90 are
                              never a slot's port: i stops at 8)
    base + 20                 a read replica (hot standby) a harness starts beside the stack
    base + 80                 the bench's minimal Django order app (the floor)
    base + 90                 HAProxy's stats page (/stats)
    base + 91                 the bench's bare WSGI app (the ceiling)
    base + 92 + 2*i + slot-1  variant i's /metrics listener in balanced slot 1 or 2 (8092..8097
                              for three variants; never behind HAProxy, only for the scraper)
    base + 98                 PgBouncer, when the stack runs the production-like profile
    base + 99                 Prometheus, when the stack starts one (`make up PROMETHEUS=1`, tests)

A test run (base PIZZA_TEST_PORT; `make test` 20000) gives each of its users its own ports above
that base, in TEST_PORTS below: no two overlap, so a stack or twin left over from one module, or one
that lives for the whole session, never holds a port another wants.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SPAN = 100  # ports per stack
MAX_VARIANTS = 9
MAX_SCRAPED_VARIANTS = 3  # +92..+97 for metrics listeners: +98 the pool, +99 Prometheus
MAX_SLOTS = 9
BALANCED_SLOTS = (1, 2)  # the slots HAProxy balances over; the others are never in its config


class Port:
    """A port of the plan at a fixed offset from its base (the table in this module's docstring)."""

    def __init__(self, offset: int):
        self.offset = offset

    def __get__(self, plan: PortPlan, owner: type | None = None) -> int:
        return plan.base + self.offset


@dataclass(frozen=True)
class PortPlan:
    base: int = 8000

    entry = Port(0)
    cache = Port(10)
    replica = Port(20)
    floor_app = Port(80)  # free in the variant grid: slots end at index 8 (+10*(slot-1)+9), so +80 is never a variant's
    stats = Port(90)
    bare_app = Port(91)
    pool = Port(98)
    prometheus = Port(99)

    def __post_init__(self):
        if not 1024 <= self.base <= 65535 - SPAN:
            raise ValueError(f"port base {self.base} is outside 1024..{65535 - SPAN} (a stack uses base..base+{SPAN - 1})")

    def variant(self, index: int, slot: int = 1) -> int:
        if not (0 <= index < MAX_VARIANTS and 1 <= slot <= MAX_SLOTS):
            raise ValueError(f"variant #{index} slot {slot}: the plan has {MAX_VARIANTS} variants x {MAX_SLOTS} slots")
        return self.base + 10 * (slot - 1) + 1 + index

    def metrics(self, index: int, slot: int = 1) -> int:
        if not (0 <= index < MAX_SCRAPED_VARIANTS and slot in BALANCED_SLOTS):
            raise ValueError(
                f"variant #{index} slot {slot}: the plan has metrics ports for {MAX_SCRAPED_VARIANTS} variants x slots {BALANCED_SLOTS}"
            )
        return self.base + 92 + 2 * index + (slot - 1)

    def listening(self, variants: int) -> list[int]:
        """The ports a started stack of `variants` variants uses (entry, stats, the balanced slots)."""
        return [self.entry, self.stats, *(self.variant(i, s) for i in range(variants) for s in BALANCED_SLOTS)]

    @property
    def last(self) -> int:
        return self.base + SPAN - 1


# --- the ports of one test run ---------------------------------------------------------------------

DEFAULT_TEST_BASE = 38000
# name -> (offset above PIZZA_TEST_PORT, how many ports). Stacks take a whole SPAN; the drill's two
# clusters sit right after its stack (stack/drill/run.py); twins take one port each.
TEST_PORTS: dict[str, tuple[int, int]] = {
    "e2e": (0, SPAN),  # tests/stack/conftest.py's stack: each module using it starts its own, one at a time
    "bench_smoke": (100, SPAN),  # tests/stack/test_bench_smoke.py (python -m stack.bench --quick)
    "replica": (200, SPAN),  # tests/stack/test_replica.py's stack (its clusters: the twins below)
    "restore_drill": (300, SPAN + 2),  # tests/stack/test_restore_drill.py: stack, then primary and restored cluster
    "pgbouncer": (432, 1),  # the shared PgBouncer twin (stack/services/pgbouncer.py)
    "pgbouncer_bench": (433, 1),  # stack/services/pool_bench.py's own PgBouncer
    "replica_primary": (442, 1),
    "replica_standby": (443, 1),
    "redis": (479, 1),  # app/ops/tests/test_cache.py
    "redis_axes": (480, 1),  # app/ops/tests/test_staff_accounts.py: the lockout counter on Redis
    "canary_prometheus": (481, 1),  # tests/workflows/test_canary_workflow.py: the fake Prometheus API
    "browser": (500, SPAN),  # tests/browser: one stack for the whole session
    "metrics_live": (600, SPAN),  # tests/stack/test_metrics_live.py: two workers per variant, Prometheus at +99
    "pool_bench": (700, SPAN),  # python -m stack.services.pool_bench (by hand; docs/capacity.md)
}
# Two test runs whose bases are this far apart never meet (the helpers' and CI's bases are 1000 apart).
TEST_RUN_SPAN = max(offset + width for offset, width in TEST_PORTS.values())


def port_of(name: str) -> int:
    """The first port of test-run user `name` (TEST_PORTS), above PIZZA_TEST_PORT."""
    if name not in TEST_PORTS:
        raise KeyError(f"{name!r} has no ports in stack/local/ports.py TEST_PORTS: add it there (one of {sorted(TEST_PORTS)})")
    return int(os.environ.get("PIZZA_TEST_PORT", str(DEFAULT_TEST_BASE))) + TEST_PORTS[name][0]
