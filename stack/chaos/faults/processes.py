"""Signals to a variant's processes, and the kubelet's restart loop."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from ...local.haproxy import server_name
from ...local.stack import Process, Stack


def kill_group(process: Process, sig: int = signal.SIGKILL) -> float:
    """Signal gunicorn's master and workers at once (its own process group); returns when."""
    os.killpg(process.popen.pid, sig)
    return time.monotonic()


class CrashLoop:
    """The kubelet for one slot: start the build, and start it again each time it exits.
    Records how often it started, its last exit code and whether HAProxy ever marked it UP."""

    def __init__(self, stack: Stack, variant: str, slot: int, app_dir: Path):
        self.stack, self.variant, self.slot, self.app_dir = stack, variant, slot, app_dir
        self.starts = 0
        self.exit: int | None = None
        self.ever_up = False

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            process = self.stack.processes.get((self.variant, self.slot))
            if process is None or not process.alive():
                if process is not None:
                    self.exit = self.stack.stop_variant(self.variant, self.slot)
                self.stack.start_variant(self.variant, self.slot, app_dir=self.app_dir)
                self.starts += 1
            if self.stack.server_states().get(server_name(self.variant, self.slot), "").startswith("UP"):
                self.ever_up = True
            time.sleep(0.1)
