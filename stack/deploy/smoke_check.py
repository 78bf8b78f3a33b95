"""Smoke check through the load balancer, after a deploy: no order is placed.

1. GET <base>/readyz answers 200 (the ALB routes only to ready targets, so this proves one is).
2. GET <base>/ without cookies until every variant that has a weight above 0 has answered, each
   with its own theme: headers X-Pizza-Variant and X-Pizza-Theme, and data-theme="<theme>" in the
   page. Without the sticky cookie each request is placed afresh by the weighted listener rule.

Usage: python -m stack.deploy.smoke_check --base-url http://<alb> --releases releases.json [--attempts 90]
where releases.json is the output of `python -m stack.deploy.releases --env <env> --format json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Result:
    ready: bool = False
    seen: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def fetch(url: str, timeout: float) -> Answer:
    """One request as a new visitor: urllib sends no cookie unless a cookie jar is installed."""
    request = urllib.request.Request(url, headers={"User-Agent": "pizza-smoke-check", "Cache-Control": "no-cache"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Answer(response.status, headers, response.read(200_000).decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, "")
    except (urllib.error.URLError, OSError) as exc:
        return Answer(0, {}, str(exc))


def expected_themes(releases: list[dict]) -> dict[str, str]:
    """variant -> theme for every release the load balancer sends visitors to."""
    return {r["variant"]: r["theme"] for r in releases if int(r.get("weight", 1)) > 0}


def check(base_url: str, expected: dict[str, str], attempts: int, delay: float, timeout: float = 5.0, get=fetch) -> Result:
    base_url = base_url.rstrip("/")
    result = Result()
    for _ in range(attempts):
        answer = get(f"{base_url}/readyz", timeout)
        if answer.status == 200:
            result.ready = True
            break
        time.sleep(delay)
    if not result.ready:
        result.problems.append(f"{base_url}/readyz never answered 200 in {attempts} attempts")
        return result
    for _ in range(attempts):
        answer = get(f"{base_url}/", timeout)
        variant = answer.headers.get("x-pizza-variant", "")
        theme = answer.headers.get("x-pizza-theme", "")
        if answer.status != 200 or not variant:
            time.sleep(delay)
            continue
        want = expected.get(variant)
        if want is None:
            result.problems.append(f"variant {variant!r} answered but is not served in this environment")
        elif theme != want:
            result.problems.append(f"variant {variant} answered with theme {theme!r}, expected {want!r}")
        elif f'data-theme="{want}"' not in answer.body:
            result.problems.append(f'variant {variant}: page lacks data-theme="{want}"')
        else:
            result.seen[variant] = theme
        if result.problems or set(result.seen) == set(expected):
            break
    missing = sorted(set(expected) - set(result.seen))
    if missing and not result.problems:
        result.problems.append(f"never reached variant(s) {', '.join(missing)} in {attempts} requests")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--releases", required=True, help="JSON file from python -m stack.deploy.releases")
    parser.add_argument("--attempts", type=int, default=90)
    parser.add_argument("--delay", type=float, default=2.0)
    args = parser.parse_args(argv)
    with open(args.releases, encoding="utf-8") as handle:
        expected = expected_themes(json.load(handle))
    result = check(args.base_url, expected, args.attempts, args.delay)
    lines = ["| variant | expected theme | seen through the load balancer |", "|---|---|---|"]
    lines += [f"| {v} | {t} | {'yes' if v in result.seen else 'no'} |" for v, t in sorted(expected.items())]
    lines += [f"\n**{p}**" for p in result.problems]
    report = "\n".join(["## Smoke check through the load balancer", "", *lines, ""])
    print(report)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(report + "\n")
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
