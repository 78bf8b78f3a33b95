"""HAProxy's view of one slot, read through its runtime socket."""

from __future__ import annotations

from ...local.haproxy import server_name
from ...local.stack import Stack


def server_stat(stack: Stack, variant: str, slot: int) -> dict:
    return stack.server_stats().get(server_name(variant, slot), {})


def requests_sent(stack: Stack, variant: str, slot: int) -> int:
    """Sessions HAProxy has sent to the slot since it started (stot)."""
    return int(server_stat(stack, variant, slot).get("stot") or 0)


def seconds_until_down(stack: Stack, variant: str, slot: int, timeout: float = 15) -> float | None:
    """How long until HAProxy's health checks mark the slot DOWN; None if they never do."""
    return stack.wait_server(variant, slot, lambda status: status.startswith("DOWN"), timeout=timeout)
