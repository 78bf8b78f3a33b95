"""Canary analysis: the canary against the stable version of the SAME variant, from the app's metrics.

One window of traffic per version (a step of the canary) is read from either source:

- ProcessSource: a process's own /metrics (the local stack; two scrapes, the difference);
- PrometheusSource: Prometheus's HTTP API, `increase(...[window])` under a label selector (AWS:
  the Prometheus the alerts use; canary and stable told apart by their Service).

Both read the same series, defined once in SERIES. Each check needs a minimum sample on both
sides, so an idle night neither passes nor fails a canary: too few samples is WAIT (the step is
extended). A check fails only when the canary is worse beyond a tolerance AND the counts make
chance unlikely (a one-sided tail below `alpha`: binomial for a share of requests, Fisher's
noncentral hypergeometric for orders per visitor, whose visitors are a sample too), so 3 errors in
15 orders fail where 1 in 15 waits for more evidence.

    python -m stack.deploy.analysis --prometheus URL --release pizza-a --window 300   # exit 0 pass, 1 fail, 3 wait
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

# ops.metrics is the app's (the stack package puts app/ on the path): one home for route names and reasons.
from ops.metrics import ORDER_ROUTES, REFUSAL_REASONS

PASS, FAIL, WAIT = "pass", "fail", "wait"
EXIT_CODES = {PASS: 0, FAIL: 1, WAIT: 3}
ORDER_POST = {"method": ("POST",), "route": ORDER_ROUTES}


@dataclass(frozen=True)
class Series:
    """One number of a Window: the sum of a sample over label filters, optionally per `by` label."""

    field: str
    sample: str
    # dataclasses.field: the class attribute `field` above shadows the import in this class body.
    match: dict = dataclasses.field(default_factory=dict)  # label -> allowed values
    exclude: dict = dataclasses.field(default_factory=dict)  # label -> refused values
    by: str = ""

    def accepts(self, labels: dict) -> bool:
        return all(labels.get(k) in v for k, v in self.match.items()) and not any(labels.get(k) in v for k, v in self.exclude.items())

    def promql(self, selector: str, window: str) -> str:
        parts = [selector.strip("{} ")] if selector.strip("{} ") else []
        parts += [f'{k}=~"{"|".join(v)}"' for k, v in self.match.items()]
        parts += [f'{k}!~"{"|".join(v)}"' for k, v in self.exclude.items()]
        grouping = f" by ({self.by})" if self.by else ""
        return f"sum{grouping}(increase({self.sample}{{{', '.join(parts)}}}[{window}]))"


SERIES = (
    Series("requests", "pizza_http_requests_total", exclude={"route": ("static",)}),
    Series("errors", "pizza_http_requests_total", {"status_class": ("5xx",)}, {"route": ("static",)}),
    Series("order_posts", "pizza_http_requests_total", ORDER_POST),
    Series("order_errors", "pizza_http_requests_total", {**ORDER_POST, "status_class": ("5xx",)}),
    Series("refusals", "pizza_order_refusals_total", by="reason"),
    Series("orders", "pizza_orders_placed_total"),
    Series("exposures", "pizza_exposures_recorded_total"),
    Series("latency", "pizza_http_request_duration_seconds_bucket", ORDER_POST, by="le"),
)


@dataclass
class Window:
    """Counts of one version over one window (or, from ProcessSource.snapshot, since it started)."""

    requests: float = 0.0
    errors: float = 0.0  # 5xx answers
    order_posts: float = 0.0
    order_errors: float = 0.0  # 5xx answers to order POSTs
    refusals: dict = field(default_factory=dict)  # reason -> order POSTs refused
    orders: float = 0.0
    exposures: float = 0.0
    latency: dict = field(default_factory=dict)  # bucket upper bound "le" -> cumulative order POSTs

    def minus(self, earlier: Window) -> Window:
        def sub(a, b):
            return {k: v - b.get(k, 0.0) for k, v in a.items()} if isinstance(a, dict) else a - b

        return Window(**{name: sub(getattr(self, name), getattr(earlier, name)) for name in self.__dataclass_fields__})


def add(window: Window, series: Series, labels: dict, value: float) -> None:
    if series.by:
        bucket = getattr(window, series.field)
        key = labels.get(series.by, "")
        bucket[key] = bucket.get(key, 0.0) + value
    else:
        setattr(window, series.field, getattr(window, series.field) + value)


class ProcessSource:
    """A process's /metrics: the window is the difference between two snapshots."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout

    def snapshot(self) -> Window:
        with urllib.request.urlopen(self.url, timeout=self.timeout) as response:
            return parse_exposition(response.read().decode())


def parse_exposition(text: str) -> Window:
    window = Window()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            for series in SERIES:
                if sample.name == series.sample and series.accepts(sample.labels):
                    add(window, series, sample.labels, sample.value)
    return window


class PrometheusSource:
    """Prometheus's HTTP API: one instant query per series, `increase` over the window."""

    def __init__(self, base_url: str, selector: str, timeout: float = 10.0):
        self.base_url, self.selector, self.timeout = base_url.rstrip("/"), selector, timeout

    def query(self, promql: str) -> list:
        url = f"{self.base_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=self.timeout) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"Prometheus refused {promql!r}: {body.get('error')}")
        return body["data"]["result"]

    def window(self, seconds: float) -> Window:
        window = Window()
        for series in SERIES:
            for row in self.query(series.promql(self.selector, f"{max(int(seconds), 1)}s")):
                add(window, series, row["metric"], float(row["value"][1]))
        return window


# --- the checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    min_requests: int = 100  # requests per version before the error ratio is judged
    min_order_posts: int = 30  # order POSTs per version before errors, refusals and latency of orders are judged
    min_exposures: int = 20  # visitors (exposures) per version before orders per visitor is judged
    max_error_increase: float = 0.01  # canary 5xx ratio may exceed stable's by this much
    max_refusal_increase: float = 0.05  # per refusal reason, as a share of order POSTs
    min_latency_samples: int = 100  # order POSTs per version before p99 is judged (below ~100, p99 is the maximum)
    max_latency_ratio: float = 1.5  # canary order-POST p99 may be this many times stable's ...
    latency_floor: float = 0.5  # ... or up to this many seconds, whichever is larger
    min_conversion_ratio: float = 0.5  # canary orders per visitor at least this share of stable's
    alpha: float = 0.01  # how unlikely by chance a difference must be to fail


@dataclass
class Check:
    name: str
    status: str
    canary: str
    stable: str
    rule: str


@dataclass
class Verdict:
    status: str
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def table(self) -> str:
        rows = ["| check | canary | stable | rule | result |", "|---|---|---|---|---|"]
        rows += [f"| {c.name} | {c.canary} | {c.stable} | {c.rule} | {c.status.upper()} |" for c in self.checks]
        return "\n".join(rows)


def log_comb(n: int, k: int) -> float:
    """log C(n, k), for counts too large for the binomial coefficient itself."""
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def binomial_sf(k: float, n: float, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (n may be a day of requests)."""
    k, n = max(round(k), 0), round(n)
    if k > n:
        return 0.0
    if p <= 0.0 or p >= 1.0:
        return 1.0 if (p >= 1.0 or k == 0) else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    return min(
        1.0,
        sum(math.exp(log_comb(n, i) + i * log_p + (n - i) * log_q) for i in range(k, n + 1)),
    )


def fisher_noncentral_cdf(x: int, total: int, marked: int, drawn: int, odds: float) -> float:
    """P(X <= x) for Fisher's noncentral hypergeometric law: X of `drawn` items out of `total` are
    `marked` ones, a marked item `odds` times as likely to be drawn. The weight of X = i is
    C(marked, i) C(total - marked, drawn - i) odds^i, normalised over i's support, in log space."""
    low, high = max(0, drawn - (total - marked)), min(drawn, marked)
    if x < low:
        return 0.0
    if x >= high:
        return 1.0
    logs = [log_comb(marked, i) + log_comb(total - marked, drawn - i) + i * math.log(odds) for i in range(low, high + 1)]
    peak = max(logs)
    weights = [math.exp(v - peak) for v in logs]
    return min(1.0, sum(weights[: x - low + 1]) / sum(weights))


def quantile(q: float, buckets: dict) -> float | None:
    """histogram_quantile over cumulative buckets {"0.1": 3, ..., "+Inf": 9}; None without samples."""
    bounds = sorted((float(le), count) for le, count in buckets.items())
    total = bounds[-1][1] if bounds else 0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in bounds:
        if count >= rank:
            if math.isinf(upper):
                return lower  # beyond the last finite bucket: its bound is all we know
            return lower + (upper - lower) * (rank - below) / (count - below) if count > below else upper
        lower, below = upper, count
    return lower


def ratio_check(name: str, bad_c: float, n_c: float, bad_s: float, n_s: float, minimum: int, tolerance: float, alpha: float) -> Check:
    """Fail when the canary's share of `bad` exceeds stable's + tolerance beyond chance."""

    def shown(bad, n):
        return f"{bad:.0f}/{n:.0f} ({bad / n:.1%})" if n else "0/0"

    rule = f"<= stable + {tolerance:.0%}, n >= {minimum}"
    if n_c < minimum or n_s < minimum:
        return Check(name, WAIT, shown(bad_c, n_c), shown(bad_s, n_s), rule)
    limit = bad_s / n_s + tolerance
    worse = bad_c / n_c > limit and binomial_sf(bad_c, n_c, limit) < alpha
    return Check(name, FAIL if worse else PASS, shown(bad_c, n_c), shown(bad_s, n_s), rule)


def latency_check(canary: Window, stable: Window, t: Thresholds) -> Check:
    p_c, p_s = quantile(0.99, canary.latency), quantile(0.99, stable.latency)
    rule = f"<= max({t.max_latency_ratio:g} x stable, {t.latency_floor:g}s), n >= {t.min_latency_samples}"

    def shown(p):
        return "-" if p is None else f"{p * 1000:.0f} ms"

    if min(canary.order_posts, stable.order_posts) < t.min_latency_samples or p_c is None or p_s is None:
        return Check("order POST latency p99", WAIT, shown(p_c), shown(p_s), rule)
    worse = p_c > max(p_s * t.max_latency_ratio, t.latency_floor)
    return Check("order POST latency p99", FAIL if worse else PASS, shown(p_c), shown(p_s), rule)


def conversion_check(canary: Window, stable: Window, t: Thresholds) -> Check:
    """Orders per visitor, judged on the 2x2 table of orders and exposures of canary and stable.

    All four counts are samples: the load balancer places each request, beacons as well as orders,
    so a version's visitors are as random as its orders (a short step can hand one version twice its
    share of new visitors). Given the table's margins, the canary's orders follow Fisher's noncentral
    hypergeometric law with odds ratio r under "the canary converts at r x stable" (r =
    min_conversion_ratio); fail when they are improbably few even for that."""

    def shown(w):
        return f"{w.orders:.0f}/{w.exposures:.0f}" + (f" ({w.orders / w.exposures:.2f})" if w.exposures else "")

    rule = f">= {t.min_conversion_ratio:g} x stable, n >= {t.min_exposures} visitors"
    if canary.exposures < t.min_exposures or stable.exposures < t.min_exposures:
        return Check("orders per visitor", WAIT, shown(canary), shown(stable), rule)
    r = t.min_conversion_ratio
    worse = canary.orders / canary.exposures < r * stable.orders / stable.exposures  # never when r is 0
    if worse:
        orders_c, visitors_c, orders_s, visitors_s = (round(x) for x in (canary.orders, canary.exposures, stable.orders, stable.exposures))
        total = orders_c + visitors_c + orders_s + visitors_s
        worse = fisher_noncentral_cdf(orders_c, total, orders_c + orders_s, orders_c + visitors_c, r) < t.alpha  # P(X <= canary's orders)
    return Check("orders per visitor", FAIL if worse else PASS, shown(canary), shown(stable), rule)


def analyse(canary: Window, stable: Window, t: Thresholds = Thresholds()) -> Verdict:
    checks = [
        ratio_check(
            "5xx ratio, all requests",
            canary.errors,
            canary.requests,
            stable.errors,
            stable.requests,
            t.min_requests,
            t.max_error_increase,
            t.alpha,
        ),
        ratio_check(
            "5xx ratio, order POSTs",
            canary.order_errors,
            canary.order_posts,
            stable.order_errors,
            stable.order_posts,
            t.min_order_posts,
            t.max_error_increase,
            t.alpha,
        ),
    ]
    for reason in REFUSAL_REASONS:
        checks.append(
            ratio_check(
                f"orders refused: {reason}",
                canary.refusals.get(reason, 0.0),
                canary.order_posts,
                stable.refusals.get(reason, 0.0),
                stable.order_posts,
                t.min_order_posts,
                t.max_refusal_increase,
                t.alpha,
            )
        )
    checks += [latency_check(canary, stable, t), conversion_check(canary, stable, t)]
    statuses = {c.status for c in checks}
    status = FAIL if FAIL in statuses else WAIT if WAIT in statuses else PASS
    return Verdict(status, checks)


def selectors(release: str) -> tuple[str, str]:
    """PromQL selectors of a release's canary and stable pods as kube-prometheus-stack labels them:
    `namespace` is the release's (releases.py), `service` the Service scraped (the chart's <release>
    and <release>-canary, templates/canary.yaml)."""
    return f'namespace="{release}",service="{release}-canary"', f'namespace="{release}",service="{release}"'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Judge a canary against its stable version from Prometheus.")
    parser.add_argument("--prometheus", required=True, help="base URL of the Prometheus the alerts use")
    parser.add_argument("--release", required=True, help="the Helm release whose canary is judged, e.g. pizza-a")
    parser.add_argument("--window", type=float, default=300, help="seconds of traffic to judge (the step so far)")
    for name, default in Thresholds().__dict__.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    args = parser.parse_args(argv)
    thresholds = Thresholds(**{name: getattr(args, name) for name in Thresholds().__dict__})
    canary_selector, stable_selector = selectors(args.release)
    canary = PrometheusSource(args.prometheus, canary_selector).window(args.window)
    stable = PrometheusSource(args.prometheus, stable_selector).window(args.window)
    verdict = analyse(canary, stable, thresholds)
    report = f"## Canary analysis: {verdict.status.upper()}\n\n{verdict.table()}\n"
    print(report)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(report + "\n")
    return EXIT_CODES[verdict.status]


if __name__ == "__main__":
    sys.exit(main())
