"""The one rolling restart: the local twin of `helm upgrade --wait --rollback-on-failure` for a release.

The new version starts in the variant's other slot beside the old one (like a surge pod:
maxSurge 1, maxUnavailable 0); only once it is ready and HAProxy has marked it UP is the old one
drained, given SIGTERM with nothing in flight, and parked. If it is not ready within the deadline,
the new process is stopped, the old one keeps serving, and the result names the release: the
gate the deploy gets from Helm (pods ready within --timeout). Used by the end-to-end tests and by
`make chaos` (scenarios 1 and 2).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .. import APP_DIR
from ..local.haproxy import server_name
from ..local.stack import Stack
from .releases import release_name


@dataclass
class RolloutResult:
    release: str
    ok: bool
    seconds: float
    message: str
    old: str = ""  # HAProxy server names, e.g. "a1" -> "a2"
    new: str = ""
    new_slot: int = 0
    ready_after: float | None = None  # seconds from start to ready (HAProxy UP)
    drained: float | None = None  # seconds the old slot drained
    in_flight: int | None = None  # requests the old process still had when it got SIGTERM
    exit_code: int | None = None  # the old process's
    stopped_after: float | None = None  # seconds from SIGTERM to the old process's exit and park


def roll(stack: Stack, variant: str, app_dir: Path = APP_DIR, deadline: float = 60.0, env: dict | None = None) -> RolloutResult:
    """Replace `variant`'s serving process with one running the code in `app_dir`."""
    release = release_name(variant)
    old_slot = next((slot for (name, slot) in stack.processes if name == variant), 1)
    new_slot = 2 if old_slot == 1 else 1
    old, new_name = server_name(variant, old_slot), server_name(variant, new_slot)
    started = time.monotonic()
    new = stack.start_in_slot(variant, new_slot, app_dir=app_dir, env=env)
    if not stack.wait_ready(variant, new_slot, timeout=deadline):
        reason = "exited at start-up" if not new.alive() else f"not ready within {deadline:g}s"
        stack.stop_variant(variant, new_slot, timeout=10)
        stack.park(variant, new_slot)
        tail = new.log.read_text(errors="replace").strip().splitlines()[-1:] if new.log.exists() else []
        message = f"rollout of release {release} failed: the new version {reason}; the previous version keeps serving"
        if tail:
            message += f" (last log line: {tail[0][:200]})"
        return RolloutResult(release, False, time.monotonic() - started, message, old, new_name, new_slot)
    ready_after = time.monotonic() - started
    result = RolloutResult(release, True, 0.0, "", old, new_name, new_slot, ready_after=ready_after)
    if (variant, old_slot) in stack.processes:
        retiring = time.monotonic()
        result.drained, result.in_flight, result.exit_code = stack.retire(variant, old_slot)
        result.stopped_after = time.monotonic() - retiring - result.drained
    result.seconds = time.monotonic() - started
    result.message = f"release {release} rolled out in {result.seconds:.1f}s"
    return result
