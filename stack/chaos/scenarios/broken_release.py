"""5. A broken release (code that fails at start-up) must never become ready nor get traffic; its
name is reported (the run expects it when every scenario runs, and fails on it when asked alone)."""

from __future__ import annotations

import signal
import time

from ...deploy.releases import release_name
from ...local.haproxy import server_name
from ..faults.loadbalancer import requests_sent
from ..faults.processes import CrashLoop

NUMBER = 5
NAME = "broken release"


def run(h, result) -> None:
    variant = h.stack.names[-1]
    release = release_name(variant)
    broken = h.copy_app("broken")
    with open(broken / "orders" / "models.py", "a") as out:
        out.write('\nraise RuntimeError("broken build: stack.chaos scenario 5")\n')
    old = h.active[variant]
    new = 3 - old
    deadline = max(h.args.duration / 2, 4)
    kubelet = CrashLoop(h.stack, variant, new, broken)

    def action(load):
        before = requests_sent(h.stack, variant, new)
        h.stack.set_server_state(variant, new, "ready")
        # Rollout: the new pod never gets ready, the old one keeps serving (maxUnavailable 0).
        kubelet.run(deadline)
        # The other half: the broken release is the only process of its variant.
        h.retire(variant, old, result)
        alone = time.monotonic()
        kubelet.run(deadline)
        served = load.stats.served_by(alone + 0.2)
        result.notes.append(f"while {release} had only the broken process: served by {dict(served)}")
        result.check(f"{release} served nothing while only the broken release was there", served.get(variant, 0) == 0)
        result.check("the other variants served everything", sum(served.values()) > 0 and set(served) <= set(h.stack.names) - {variant})
        result.check(
            f"HAProxy sent 0 requests to the broken server {server_name(variant, new)}", requests_sent(h.stack, variant, new) == before
        )
        h.stack.stop_variant(variant, new, signal.SIGKILL)
        h.stack.park(variant, new)
        # Roll back: the previous release comes back in its slot.
        result.check(f"{release} restored on the previous code", h.start_slot(variant, old))

    h.run_load_scenario(result, action)
    log_tail = [
        line for line in (h.stack.state_dir / "logs" / f"{variant}{new}.log").read_text(errors="replace").splitlines() if "Error" in line
    ]
    result.check(
        f"the broken release never became ready ({kubelet.starts} start(s), each exited {kubelet.exit})",
        not kubelet.ever_up and kubelet.starts > 0,
    )
    result.check("0 failed requests while the rollout failed (first attempts included)", not result.stats.failed)
    result.broken_release = release
    result.notes.append(f"release {release} never became ready: {log_tail[-1].strip() if log_tail else 'no error logged'}")
