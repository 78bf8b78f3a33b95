"""`make canary`: both outcomes of a canary release under load, with exactly-once accounting.

On the chaos harness's own PostgreSQL and A/B/C stack (stack.chaos.harness), with its load (orders
through the JSON API and the form, page views, a new visitor every few requests) and its accounting:

  1. a good build (a copy of the app, new APP_VERSION) canaried on one variant: promoted, 0 failed requests;
  2. a bad build (the copy answers 500 to 20% of order POSTs): rolled back by the analysis, with the
     customers who saw an error counted and bounded by the canary's share.

Both end with every acknowledged order stored exactly once. Exit 0 only if both outcomes are as
expected. `--short` is the form `make test` runs (tests/stack/test_canary.py).

    python -m stack.deploy.canary_demo [--short] [--steps 10,50] [--interval 20] [--port BASE] [--report reports/canary.json]
    make canary CANARY_ARGS="--steps 5,25,50 --interval 30"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import REPO_ROOT, StackError
from ..chaos.accounting import Result
from ..chaos.harness import Chaos, ChaosError, say
from ..chaos.load import Load
from ..local.haproxy import server_name
from . import canary
from .analysis import Thresholds

BROKEN_SHARE = 0.2  # of order POSTs the bad build answers with 500
PATCHES = {  # file -> (line to find, the broken line put before it)
    "api/views.py": "    key = idempotency.parse_key(idempotency_key)\n",
    "orders/views/customer.py": "    form = OrderForm(request.POST)\n",
}


def bad_build(h: Chaos) -> Path:
    """A copy of the app whose order POSTs fail with 500 one time in five (before anything is stored)."""
    app = h.copy_app("canary-bad")
    break_orders(app)
    return app


def break_orders(app: Path) -> None:
    """Patch the app copy at `app`: both order POSTs (the form and the API) raise one time in five."""
    for relative, anchor in PATCHES.items():
        path = app / relative
        text = path.read_text() if path.is_file() else ""
        if text.count(anchor) != 1:
            raise ChaosError(f"cannot make the bad build: {relative} changed or moved (the line {anchor.strip()!r} is gone)")
        indent = anchor[: len(anchor) - len(anchor.lstrip())]
        broken = f'{indent}if __import__("random").random() < {BROKEN_SHARE}:\n{indent}    raise RuntimeError("canary demo: a bug the tests missed")\n'
        path.write_text(text.replace(anchor, broken + anchor))


def sent(h: Chaos, variant: str) -> dict:
    """Requests HAProxy has sent to each slot of the variant so far (stot)."""
    assert h.stack is not None  # the harness has started the stack
    stats = h.stack.server_stats()
    return {slot: int(stats.get(server_name(variant, slot), {}).get("stot") or 0) for slot in (1, 2)}


def run_outcome(h: Chaos, name: str, app_dir: Path, version: str, plan: canary.CanaryPlan) -> dict:
    args, variant = h.args, h.args.variant
    since, before = h.max_order_id(), sent(h, variant)
    load = Load(h.base, h.pizzas, args.rate, args.views, args.threads, requests_per_visitor=args.visit, land_first=True)
    assert h.stack is not None  # the harness has started the stack
    with load:
        time.sleep(args.lead)
        outcome = canary.run(h.stack, variant, app_dir, plan, env={"APP_VERSION": version}, say=lambda m: say(f"  {m}"))
        time.sleep(args.lead)
    if outcome.ok:
        h.active[variant] = 3 - h.active[variant]
    result = Result(0, name, stats=load.stats)
    h.account(result, since)
    after = sent(h, variant)
    return figures(h, outcome, result, {slot: after[slot] - before[slot] for slot in after})


def figures(h: Chaos, outcome: canary.CanaryResult, result: Result, routed: dict) -> dict:
    s, variant = result.stats, h.args.variant
    canary_slot = int(outcome.canary[-1])
    visitors = s.visitor_variants
    of_variant = [v for v, seen in visitors.items() if seen == {variant}]
    failed_visitors = s.visitors_failed
    row = result.as_dict()
    row.update(
        outcome=outcome.outcome,
        message=outcome.message,
        seconds=round(outcome.seconds, 1),
        steps=[
            {
                "share": st.share,
                "seconds": round(st.seconds, 1),
                "verdict": st.verdict.status,
                "canary_order_posts": st.canary.order_posts,
                "canary_order_5xx": st.canary.order_errors,
            }
            for st in outcome.steps
        ],
        failed_analysis=outcome.failed_analysis.table() if outcome.failed_analysis else None,
        rollback_seconds=outcome.rollback_seconds,
        visitors=len(visitors),
        visitors_of_variant=len(of_variant),
        # Of the visitors the canaried variant served, how many were ever answered by another one.
        visitors_switched_variant=sum(1 for seen in visitors.values() if variant in seen and len(seen) > 1),
        customers_with_error=len(failed_visitors),
        customers_with_error_outside_variant=len([v for v in failed_visitors if visitors.get(v, {variant}) != {variant}]),
        canary_requests=routed[canary_slot],
        variant_requests=sum(routed.values()),
        canary_order_posts=sum(st.canary.order_posts for st in outcome.steps),
        max_share=max((st.share for st in outcome.steps), default=0),
    )
    return row


def failed_on_5xx(table: str) -> bool:
    """The failed analysis has FAIL rows, and every one is a 5xx ratio: the bad build's only fault is
    answering 500 to some order POSTs, which count in both the order-POST and the all-requests ratio."""
    failing = [line for line in table.splitlines() if line.endswith("| FAIL |")]
    return bool(failing) and all(line.startswith("| 5xx ratio") for line in failing)


def expectations(good: dict, bad: dict) -> list[tuple[str, bool]]:
    """What `make canary` must show; each line a check of the report."""
    checks = [
        ("good build promoted", good["outcome"] == "promoted"),
        ("good build: 0 failed requests (first attempts included)", good["failed_requests"] == 0),
        ("bad build rolled back", bad["outcome"] == "rolled back"),
        ("bad build: its 5xx answers are what failed it (order POSTs or all requests)", failed_on_5xx(bad["failed_analysis"] or "")),
        ("bad build: customers with an error are all visitors of the canaried variant", bad["customers_with_error_outside_variant"] == 0),
        ("bad build: customers with an error <= order POSTs the canary answered", bad["customers_with_error"] <= bad["canary_order_posts"]),
        ("bad build: every customer's order went through in the end (retries reached stable)", not bad["unresolved"]),
    ]
    for label, row in (("good", good), ("bad", bad)):
        checks += [
            (f"{label} build: the canary got traffic", row["canary_requests"] > 0),
            (f"{label} build: no visitor of the canaried variant saw another variant", row["visitors_switched_variant"] == 0),
            (f"{label} build: 0 lost, 0 duplicate, 0 extra orders", row["lost"] == 0 and row["duplicates"] == 0 and row["extra"] == 0),
        ]
    return checks


def summary(rows: list[dict]) -> str:
    lines = [
        "| build | outcome | steps | requests | failed 1st try | customers (with error) | canary share of variant | acked | in DB | lost | dup |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        steps = ", ".join(f"{s['share']}% {s['verdict']} {s['seconds']:.0f}s" for s in row["steps"])
        share = row["canary_requests"] / row["variant_requests"] if row["variant_requests"] else 0
        failed = sum(row["failed_by_kind"].values())
        lines.append(
            f"| {row['name']} | {row['outcome']} | {steps} | {row['requests']} | {failed} | {row['visitors']} ({row['customers_with_error']}) "
            f"| {share:.0%} ({row['canary_requests']}/{row['variant_requests']}) | {row['orders_acked']} | {row['orders_in_db']} | {row['lost']} | {row['duplicates']} |"
        )
    return "\n".join(lines)


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stack.deploy.canary_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the form make test runs: short steps, small samples")
    parser.add_argument("--variant", default="a")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("CANARY_PORT", "18200")), help="the stack's port base (base..base+99)"
    )
    parser.add_argument("--env", default="dev")
    parser.add_argument("--report", default=str(REPO_ROOT / "reports" / "canary.json"))
    parser.add_argument("--steps", help="the canary's shares of the variant, percent, e.g. 10,50 (default 10,50; short 25,50)")
    parser.add_argument("--interval", type=float, help="seconds per step and per extension (default 20; short 4)")
    args = parser.parse_args(argv)
    # Each new visitor first looks at the landing page (Load's land_first, an extra request with its
    # beacon): every visitor is exposed, as the "orders per visitor" check needs. The short form has
    # fewer scheduled views (the landings are views) and a new visitor every 3 requests, so the
    # canary's exposures reach their minimum before its order POSTs do.
    args.rate, args.views, args.threads = (12.0, 3.0, 12) if args.short else (24.0, 12.0, 24)
    args.visit = 3 if args.short else 4  # scheduled requests per visitor after the landing: a customer looks, then orders
    args.network = False  # the canary needs no network faults: PostgreSQL on loopback
    args.lead = 2.0 if args.short else 5.0
    args.steps = tuple(int(x) for x in args.steps.split(",")) if args.steps else (25, 50) if args.short else (10, 50)
    args.interval = args.interval or (4.0 if args.short else 20.0)
    # Extra intervals a step may wait for its minimum samples: the short form's 4 s steps need several
    # (about 25 s at 25% on an idle machine, twice that when the load generator shares a busy machine).
    args.extensions = 25 if args.short else 8
    # Smaller samples than production's defaults (a few orders a second here), except for order POSTs:
    # the bad build fails one in five, and a step judged on fewer than 30 lets it through too often
    # (at 12, 27% of steps see at most one failure, which is not beyond chance against a stable at 0;
    # at 30, 4.4% see at most two). The short form's latency floor is generous because up to nine test
    # sessions share this machine's two cores.
    args.thresholds = (
        Thresholds(min_requests=30, min_order_posts=30, min_latency_samples=12, min_exposures=5, latency_floor=2.0)
        if args.short
        else Thresholds(min_requests=60, min_order_posts=30, min_latency_samples=40, min_exposures=10)
    )
    return args


def main(argv=None) -> int:
    args = parse(argv)
    plan = canary.CanaryPlan(steps=args.steps, interval=args.interval, max_extensions=args.extensions, thresholds=args.thresholds)
    h = Chaos(args)
    started, rows = time.monotonic(), []
    try:
        h.setup()
        say(
            f"canary of variant {args.variant}: steps {args.steps} %, {args.interval:g}s each; load {args.rate:g} orders/s + {args.views:g} views/s"
        )
        for name, build in (("good", lambda: h.copy_app("canary-good")), ("bad", lambda: bad_build(h))):
            say(f"{name} build")
            rows.append(run_outcome(h, name, build(), f"canary-{name}", plan))
            say(f"  {rows[-1]['message']}")
    except (ChaosError, StackError) as exc:
        say(f"failed: {exc}")
        return 2
    finally:
        h.teardown()
    checks = expectations(*rows)
    report = {
        "seconds": round(time.monotonic() - started, 1),
        "short": args.short,
        "steps": list(args.steps),
        "interval": args.interval,
        "rate": args.rate,
        "views": args.views,
        "outcomes": rows,
        "checks": [{"check": c, "ok": ok} for c, ok in checks],
        "table": summary(rows),
    }
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print("\n" + report["table"] + "\n")
    if rows[1]["failed_analysis"]:
        print("the analysis that failed (bad build):\n" + rows[1]["failed_analysis"] + "\n")
    for check, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {check}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
