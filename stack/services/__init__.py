"""The scale tier's twins, each a real process: PgBouncer (pool), a streaming standby (replica), Redis (cache).

Ports: `make up PROFILE=production` puts its pool on the stack's own PortPlan.pool. The twins a test
run shares have one port each above PIZZA_TEST_PORT, in the test run's table (stack/local/ports.py
TEST_PORTS), away from every test stack's range.
"""

from __future__ import annotations

from ..local.ports import port_of


def service_port(name: str) -> int:
    """The port the tests give the twin `name` (stack/local/ports.py TEST_PORTS)."""
    return port_of(name)
