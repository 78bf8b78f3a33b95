"""The scale tier's twins, each a real process: PgBouncer (pool), a streaming standby (replica), Redis (cache).

Ports: every twin a test starts sits at a fixed offset above PIZZA_TEST_PORT (the tests' entry port),
so two test runs with different PIZZA_TEST_PORT values never collide.
"""

from __future__ import annotations

import os

# Offsets above the entry port: the stack itself uses +1..+13 (variant slots) and +404 (stats).
OFFSETS = {"pgbouncer": 432, "replica_primary": 442, "replica_standby": 443, "redis": 479}


def service_port(name: str) -> int:
    """The port the tests give the twin `name` (see OFFSETS)."""
    return int(os.environ.get("PIZZA_TEST_PORT", "38000")) + OFFSETS[name]
