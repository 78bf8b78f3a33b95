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


def request_log(stack: Stack, offset: int = 0) -> list[tuple[float, int, int, int, str, str]]:
    """HAProxy's own line per request (stack/local/haproxy.py's log-format) from byte `offset` of its
    log: (accept time as epoch seconds, status, ms queued, ms in all, termination state, backend/server)."""
    rows = []
    with open(stack.state_dir / "logs" / "haproxy.log", "rb") as f:
        f.seek(offset)
        for line in f.read().decode(errors="replace").splitlines():
            parts = line.split()
            if len(parts) != 6 or not parts[5].startswith("variant_"):
                continue
            try:
                rows.append((float(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), parts[4], parts[5]))
            except ValueError:
                continue
    return rows


def log_size(stack: Stack) -> int:
    path = stack.state_dir / "logs" / "haproxy.log"
    return path.stat().st_size if path.exists() else 0
