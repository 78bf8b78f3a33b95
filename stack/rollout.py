"""The local twin of `helm upgrade --wait --rollback-on-failure` for one release.

The new version starts beside the old one (like a surge pod); only once it is ready does the load
balancer drain the old one and the old one get SIGTERM. If it is not ready within the deadline,
the new process is stopped, the old one keeps serving, and the rollout fails naming the release:
the same gate the deploy workflow relies on (readiness within the rollout deadline).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from .local import APP_DIR, Stack


@dataclass
class RolloutResult:
    release: str
    ok: bool
    seconds: float
    message: str


def roll(stack: Stack, variant: str, app_dir: Path = APP_DIR, deadline: float = 60.0, env: dict | None = None) -> RolloutResult:
    """Replace `variant`'s serving process with one running the code in `app_dir`."""
    release = f"pizza-{variant}"
    old_slot = next((slot for (name, slot) in stack.processes if name == variant), 1)
    new_slot = 2 if old_slot == 1 else 1
    started = time.monotonic()
    new = stack.start_in_slot(variant, new_slot, app_dir=app_dir, env=env)
    if not stack.wait_ready(variant, new_slot, timeout=deadline):
        reason = "exited at start-up" if not new.alive() else f"not ready within {deadline:g}s"
        stack.stop_variant(variant, new_slot, timeout=10)
        tail = new.log.read_text(errors="replace").strip().splitlines()[-1:] if new.log.exists() else []
        message = f"rollout of release {release} failed: the new version {reason}; the previous version keeps serving"
        if tail:
            message += f" (last log line: {tail[0][:200]})"
        return RolloutResult(release, False, time.monotonic() - started, message)
    if (variant, old_slot) in stack.processes:
        stack.retire(variant, old_slot)
    return RolloutResult(release, True, time.monotonic() - started, f"release {release} rolled out in {time.monotonic() - started:.1f}s")
