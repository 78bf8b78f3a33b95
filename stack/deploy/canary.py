"""A canary release of one variant on the local stack: a few of its visitors first, judged by metrics.

The new code starts in the variant's spare slot, INSIDE the variant's HAProxy backend, with weight
0; then, step by step, it gets a share of that variant's requests through HAProxy's runtime API
(`set weight`), e.g. 10% then 50%. Visitors keep their variant (the sticky PZV cookie picks the
backend; the canary is a server of that backend), so the A/B/C experiment is not disturbed. This is
the local twin of a canary Deployment whose pods join the variant's own target group (docs/deploy.md).

At the end of each step stack.deploy.analysis compares the canary's /metrics with the stable
process's over the step. WAIT (too few samples) extends the step by another interval, up to
`max_extensions`, then counts as a failure (a canary nobody used is not proven). PASS -> next step;
after the last one the canary is promoted: it takes the stable's full weight and the old process is
drained and stopped exactly as the rolling restart retires one (Stack.retire). FAIL -> the canary's
weight goes to 0 at once, it is drained and stopped, and the result carries the analysis that failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import APP_DIR, StackError
from ..local import haproxy
from ..local.stack import Stack
from .analysis import (
    FAIL,
    PASS,
    WAIT,
    ProcessSource,
    Thresholds,
    Verdict,
    Window,
    analyse,
)
from .releases import release_name


@dataclass(frozen=True)
class CanaryPlan:
    steps: tuple[int, ...] = (10, 50)  # the canary's share of its variant's requests, percent, per step
    interval: float = 60.0  # seconds per step (and per extension when samples are too few)
    max_extensions: int = 4  # extra intervals a step may wait for its minimum samples
    ready_timeout: float = 60.0
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self):
        if not self.steps or any(not 0 < s < 100 for s in self.steps) or list(self.steps) != sorted(self.steps):
            raise ValueError(f"canary steps must be rising percentages between 0 and 100, got {self.steps}")


@dataclass
class Step:
    share: int
    seconds: float
    verdict: Verdict
    canary: Window  # what the canary answered during the step


@dataclass
class CanaryResult:
    release: str
    outcome: str  # "promoted", "rolled back" or "never ready"
    message: str
    steps: list[Step] = field(default_factory=list)
    seconds: float = 0.0
    canary: str = ""  # HAProxy server names, e.g. "a2"
    stable: str = ""
    rollback_seconds: float | None = None  # from the failed verdict to the canary's weight at 0

    @property
    def ok(self) -> bool:
        return self.outcome == "promoted"

    @property
    def failed_analysis(self) -> Verdict | None:
        return self.steps[-1].verdict if self.steps and self.steps[-1].verdict.status != PASS else None


def set_weight(stack: Stack, variant: str, slot: int, weight: int | str) -> None:
    """HAProxy's runtime `set weight` (0..256, or "100%" for the configured weight)."""
    server = f"{haproxy.backend_name(variant)}/{haproxy.server_name(variant, slot)}"
    answer = haproxy.runtime_command(stack.haproxy_socket, f"set weight {server} {weight}").strip()
    if answer:
        raise StackError(f"HAProxy refused 'set weight {server} {weight}': {answer}")


def set_share(stack: Stack, variant: str, stable: int, canary: int, percent: int) -> None:
    """The canary gets `percent` of the variant's requests (weights out of 100); canary first when lowering."""
    if percent == 0:
        set_weight(stack, variant, canary, 0)
        set_weight(stack, variant, stable, "100%")
        return
    set_weight(stack, variant, stable, 100 - percent)
    set_weight(stack, variant, canary, percent)


def metrics_source(stack: Stack, variant: str, slot: int) -> ProcessSource:
    return ProcessSource(f"http://127.0.0.1:{stack.ports.metrics(stack.index(variant), slot)}/metrics")


def start_canary(stack: Stack, variant: str, stable: int, canary: int, app_dir: Path, env: dict | None, timeout: float) -> bool:
    """The new code in the spare slot with weight 0: health-checked (UP) but sent nothing yet."""
    set_weight(stack, variant, canary, 0)
    stack.start_in_slot(variant, canary, app_dir=app_dir, env=env)
    if stack.wait_ready(variant, canary, timeout=timeout):
        return True
    stack.stop_variant(variant, canary, timeout=10)
    stack.park(variant, canary)
    set_weight(stack, variant, canary, "100%")
    return False


def run_step(stack: Stack, variant: str, stable: int, canary: int, share: int, plan: CanaryPlan, say) -> Step:
    """One step: set the share, wait an interval, judge; WAIT extends the step (the window grows)."""
    sources = metrics_source(stack, variant, canary), metrics_source(stack, variant, stable)
    set_share(stack, variant, stable, canary, share)
    started = time.monotonic()
    before = [source.snapshot() for source in sources]
    for _ in range(plan.max_extensions + 1):
        time.sleep(plan.interval)
        now = [source.snapshot() for source in sources]
        windows = now[0].minus(before[0]), now[1].minus(before[1])
        verdict = analyse(*windows, plan.thresholds)
        say(
            f"step {share}%: {verdict.status.upper()} after {time.monotonic() - started:.0f}s"
            + (f" (too few samples: {', '.join(c.name for c in verdict.checks if c.status == WAIT)})" if verdict.status == WAIT else "")
        )
        if verdict.status != WAIT:
            break
    return Step(share, time.monotonic() - started, verdict, windows[0])


def roll_back(stack: Stack, variant: str, stable: int, canary: int) -> float:
    """Weight 0 at once (new requests go to stable from now on), then drain and stop the canary."""
    started = time.monotonic()
    set_share(stack, variant, stable, canary, 0)
    at_zero = time.monotonic() - started
    stack.retire(variant, canary)
    set_weight(stack, variant, canary, "100%")  # the parked slot is ready for the next rollout
    return at_zero


def promote(stack: Stack, variant: str, stable: int, canary: int) -> None:
    """The canary becomes the variant's process: full weight, the old one retired like a rollout's."""
    set_weight(stack, variant, canary, "100%")
    stack.retire(variant, stable)
    set_weight(stack, variant, stable, "100%")


def run(
    stack: Stack, variant: str, app_dir: Path = APP_DIR, plan: CanaryPlan = CanaryPlan(), env: dict | None = None, say=lambda message: None
) -> CanaryResult:
    """Canary `variant` on the code in `app_dir`: promoted if every step passes, else rolled back."""
    release = release_name(variant)
    stable = next((slot for (name, slot) in stack.processes if name == variant), 1)
    canary = 2 if stable == 1 else 1
    result = CanaryResult(release, "", "", canary=haproxy.server_name(variant, canary), stable=haproxy.server_name(variant, stable))
    started = time.monotonic()
    if not start_canary(stack, variant, stable, canary, app_dir, env, plan.ready_timeout):
        result.outcome, result.message = "never ready", f"canary of {release} never became ready; the stable version keeps serving"
        result.seconds = time.monotonic() - started
        return result
    say(f"canary {result.canary} of {release} is UP with weight 0")
    for share in plan.steps:
        step = run_step(stack, variant, stable, canary, share, plan, say)
        result.steps.append(step)
        if step.verdict.status != PASS:
            result.rollback_seconds = roll_back(stack, variant, stable, canary)
            why = "failed" if step.verdict.status == FAIL else "had too few samples to be judged"
            failed = ", ".join(c.name for c in step.verdict.checks if c.status == step.verdict.status)
            result.outcome = "rolled back"
            result.message = f"canary of {release} rolled back at {share}%: the analysis {why} ({failed})"
            result.seconds = time.monotonic() - started
            return result
    promote(stack, variant, stable, canary)
    result.outcome = "promoted"
    result.message = f"canary of {release} promoted after {len(plan.steps)} step(s) ({', '.join(f'{s}%' for s in plan.steps)})"
    result.seconds = time.monotonic() - started
    return result
