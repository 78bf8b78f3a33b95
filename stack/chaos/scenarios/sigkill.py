"""3. SIGKILL of one variant's gunicorn (master and workers) mid-load; the kubelet restarts it."""

from __future__ import annotations

import time

from ...local.haproxy import server_name
from ..faults.loadbalancer import requests_sent, seconds_until_down
from ..faults.processes import kill_group

NUMBER = 3
NAME = "SIGKILL a variant"


def run(h, result) -> None:
    variant = h.stack.names[1 % len(h.stack.names)]
    limit = 2 * 1.0 + 1.0  # fall 2 x inter 1s, plus one check's slack

    def action(load):
        slot = h.active[variant]
        killed = kill_group(h.stack.processes[(variant, slot)])
        detected = seconds_until_down(h.stack, variant, slot)
        h.stack.stop_variant(variant, slot)  # reap it
        if detected is None:
            result.check(f"HAProxy marked {server_name(variant, slot)} DOWN", False)
        else:
            result.notes.append(f"{server_name(variant, slot)} SIGKILLed; HAProxy marked it DOWN after {detected:.2f}s")
            result.check(f"load balancer stopped sending to it within {limit:g}s (took {detected:.2f}s)", detected <= limit)
        sessions_down = requests_sent(h.stack, variant, slot)
        time.sleep(max(h.args.duration / 2 - (time.monotonic() - killed), 1))
        result.check(
            "no request routed to the dead server after it was marked DOWN", requests_sent(h.stack, variant, slot) == sessions_down
        )
        # The kubelet restarts the container; it rejoins once ready.
        t = time.monotonic()
        ready = h.start_slot(variant, slot)
        result.check(f"{server_name(variant, slot)} restarted and ready again", ready)
        result.notes.append(f"{server_name(variant, slot)} back UP {time.monotonic() - t:.1f}s after restart")

    h.run_load_scenario(result, action)
    result.check("no 500 and no traceback", not any(k.startswith("500") or "traceback" in k for k in result.stats.errors))
