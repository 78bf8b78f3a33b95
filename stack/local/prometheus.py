"""A real Prometheus (Debian's `prometheus` package) scraping the local stack's metrics listeners.

Each gunicorn process binds a second port for /metrics (METRICS_PORT; HAProxy never routes there);
this module says which port each variant slot uses, writes a prometheus.yml that scrapes them all
with the chart's own alert rules, runs the server, and answers PromQL and alert queries.

Used by `make up PROMETHEUS=1` and tests/stack/test_metrics_live.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import REPO_ROOT
from ..http import stop_process, wait_until_ready
from .ports import BALANCED_SLOTS

RULES = REPO_ROOT / "chart" / "files" / "prometheus-rules.yaml"
RUNBOOK_URL = (REPO_ROOT / "docs" / "runbook.md").as_uri()


def binary() -> str | None:
    return shutil.which("prometheus") or (Path("/usr/bin/prometheus").exists() and "/usr/bin/prometheus") or None


def scale_durations(text: str, factor: float) -> str:
    """The rule file with every `for:` and range `[..]` multiplied by factor (a live test cannot wait 5 minutes).
    Expressions, thresholds and labels stay exactly as shipped."""
    units = {"s": 1, "m": 60, "h": 3600}

    def scaled(number: str, unit: str) -> str:
        return f"{max(1, round(int(number) * units[unit] * factor))}s"

    text = re.sub(r"\[(\d+)([smh])\]", lambda m: f"[{scaled(*m.groups())}]", text)
    return re.sub(r"(\bfor:\s*)(\d+)([smh])\b", lambda m: m.group(1) + scaled(m.group(2), m.group(3)), text)


@dataclass
class Prometheus:
    """One Prometheus server over the stack's metrics ports, in its own state directory."""

    state_dir: Path
    port: int
    targets: dict[str, list[int]]  # variant -> metrics ports (every slot)
    interval: str = "5s"
    time_factor: float = 1.0  # < 1 shortens the rules' windows and `for:` (tests)
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        rules = self.state_dir / "prometheus-rules.yaml"
        text = RULES.read_text().replace("__RUNBOOK_URL__", RUNBOOK_URL)
        rules.write_text(scale_durations(text, self.time_factor) if self.time_factor != 1 else text)
        config = {
            "global": {"scrape_interval": self.interval, "evaluation_interval": self.interval},
            "rule_files": [str(rules)],
            "scrape_configs": [
                {
                    "job_name": "pizza",
                    "metrics_path": "/metrics",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{p}" for p in ports], "labels": {"service": f"pizza-{name}"}}
                        for name, ports in self.targets.items()
                    ],
                }
            ],
        }
        path = self.state_dir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self, timeout: float = 30.0) -> Prometheus:
        found = binary()
        if not found:
            raise RuntimeError("Prometheus is not installed: `sudo apt-get install -y prometheus` (Debian), then try again")
        config = self.write_config()
        with open(self.state_dir / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    found,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.state_dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        if wait_until_ready(f"{self.url}/-/ready", timeout, gone=lambda: process.poll() is not None):
            return self
        if process.poll() is not None:
            raise RuntimeError(f"Prometheus exited; see {self.state_dir / 'prometheus.log'}")
        raise RuntimeError(f"Prometheus did not become ready in {timeout:g}s; see {self.state_dir / 'prometheus.log'}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def _api(self, path: str, **params) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict]:
        """Instant vector: [{'metric': {...labels}, 'value': float}, ...]."""
        return [{"metric": r["metric"], "value": float(r["value"][1])} for r in self._api("query", query=promql)["result"]]

    def alerts(self) -> list[dict]:
        """Active alerts (pending and firing) as the rule manager holds them."""
        return self._api("alerts")["alerts"]

    def targets_up(self) -> dict[str, str]:
        return {t["scrapeUrl"]: t["health"] for t in self._api("targets")["activeTargets"]}


def stack_targets(stack) -> dict[str, list[int]]:
    """Every metrics port of every variant slot of a running stack.Stack."""
    return {name: [stack.ports.metrics(i, slot) for slot in BALANCED_SLOTS] for i, name in enumerate(stack.names)}


def where_metrics_are(stack) -> str:
    rows = ["Metrics (each process's own port; HAProxy refuses /metrics):"]
    for name, ports in stack_targets(stack).items():
        rows.append(f"  variant {name.upper()}".ljust(38) + f"http://127.0.0.1:{ports[0]}/metrics")
    if not binary():
        rows.append("  Prometheus: not installed (apt-get install prometheus), then `make up PROMETHEUS=1`")
    return "\n".join(rows)


def start_for_stack(stack) -> Prometheus | None:
    """`make up PROMETHEUS=1`: Prometheus beside the stack, or a one-line reason why not."""
    if not binary():
        print("PROMETHEUS=1: Prometheus is not installed (sudo apt-get install -y prometheus); continuing without it.")
        return None
    server = Prometheus(Path(stack.state_dir) / "prometheus", port=stack.ports.prometheus, targets=stack_targets(stack))
    try:
        server.start()
    except RuntimeError as exc:
        print(f"PROMETHEUS=1: {exc}; continuing without it.")
        server.stop()
        return None
    print("  Prometheus (the chart's alert rules)".ljust(38) + f"{server.url}/alerts")
    return server
