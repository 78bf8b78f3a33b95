"""The scale tier's twins, each a real process: PgBouncer (pool), a streaming standby (replica), Redis (cache).

Ports: `make up PROFILE=production` puts its pool on the stack's own PortPlan.pool. The twins a test
run shares sit in the block base+400..base+499 above PIZZA_TEST_PORT (the tests' base; the blocks
+0, +100, +200, +300 are the test stacks' own ranges, README "Ports"), so two test runs with bases
1000 apart never collide.
"""

from __future__ import annotations

import os

OFFSETS = {"pgbouncer": 432, "replica_primary": 442, "replica_standby": 443, "redis": 479}


def service_port(name: str) -> int:
    """The port the tests give the twin `name` (see OFFSETS)."""
    return int(os.environ.get("PIZZA_TEST_PORT", "38000")) + OFFSETS[name]
