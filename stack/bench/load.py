"""The load: wrk with a Lua script (order.lua: the customer's order flow; get.lua: a plain GET for
the ceiling), one BENCH_JSON summary line per run, and the rounds of one configuration combined."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

from ..stats import median
from .references import BenchError

WRK = shutil.which("wrk") or "/usr/bin/wrk"
ORDER_SCRIPT = Path(__file__).with_name("order.lua")
GET_SCRIPT = Path(__file__).with_name("get.lua")
POST_SCRIPT = Path(__file__).with_name("post.lua")


def run_wrk(
    url: str, script: Path, duration: float, connections: int, args: tuple[str, ...] | list[str] = (), threads: int | None = None
) -> dict:
    """threads: wrk's threads; by default one per connection (the order script keeps one customer's
    steps per thread). A crowd of plain GETs (make chaos, scenario 9) shares a few threads."""
    cmd = [
        WRK,
        "-t",
        str(threads or connections),
        "-c",
        str(connections),
        "-d",
        f"{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    if args:
        cmd += ["--", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((out for out in result.stdout.splitlines() if out.startswith("BENCH_JSON ")), None)
    if result.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    data = json.loads(line[len("BENCH_JSON ") :])
    seconds = data["duration_us"] / 1e6
    data["seconds"] = seconds
    # The order flow's req/s counts its three pages; the exposure beacons (a browser's fourth,
    # tiny request, only where exposures are recorded) are counted apart so configurations compare.
    data["rps"] = (data["requests"] - data.get("beacons", 0)) / seconds
    if "flows" in data:
        data["flows_per_s"] = data["flows"] / seconds
        data["beacons_per_s"] = data.get("beacons", 0) / seconds
    data["command"] = " ".join(shlex.quote(c) for c in cmd)
    return data


def check_load(data: dict, what: str) -> None:
    bad = sum(data["socket_errors"].values()) + data.get("flow_errors", 0) + data.get("post_errors", 0)
    if data["requests"] == 0 or data.get("flows") == 0 or data.get("posts") == 0 or bad > max(10, 0.01 * data["requests"]):
        raise BenchError(f"{what}: too many failures: {json.dumps(data)}")


def combine(runs: list[dict]) -> dict:
    """Rounds of one configuration: rates from the totals, latencies as the median round's."""
    seconds = sum(run["seconds"] for run in runs)
    out = {
        "rps": sum(run["rps"] * run["seconds"] for run in runs) / seconds,
        "errors": sum(sum(run["socket_errors"].values()) + run.get("flow_errors", 0) + run.get("post_errors", 0) for run in runs),
        "seconds": seconds,
        "latency_us": {k: median([run["latency_us"][k] for run in runs]) for k in ("p50", "p90", "p99", "max")},
        "rounds": runs,
    }
    if "flows" in runs[0]:
        out["flows_per_s"] = sum(run["flows"] for run in runs) / seconds
        out["flow_errors"] = sum(run["flow_errors"] for run in runs)
        out["beacons_per_s"] = sum(run.get("beacons", 0) for run in runs) / seconds
        out["flow_latency_us"] = {k: median([run["flow"][k] for run in runs]) for k in ("p50", "p99")}
        out["post_latency_us"] = {k: median([run["post"][k] for run in runs]) for k in ("p50", "p99")}
    return out


def round_ratios(runs: list[dict], reference: list[dict]) -> str:
    """Per-round ratios as 'a-b%': how much the rounds agree."""
    ratios = [run["rps"] / ref["rps"] * 100 for run, ref in zip(runs, reference, strict=False)]
    if len(ratios) < 2:
        return ""
    return f", rounds {min(ratios):.0f}-{max(ratios):.0f}%"
