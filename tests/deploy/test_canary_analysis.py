"""The canary analysis: its verdicts on given counts, and its two sources read the app's real series.

- the exposition a real prometheus_client multiprocess registry writes is parsed into a Window;
- every PromQL query PrometheusSource sends is evaluated by Prometheus's own engine
  (`promtool test rules`, promql_expr_test) on series shaped like the app's, with canary and
  stable told apart by their Service label as kube-prometheus-stack scrapes them.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from scipy import stats

from stack.deploy.analysis import (
    FAIL,
    PASS,
    SERIES,
    WAIT,
    Thresholds,
    Window,
    analyse,
    binomial_sf,
    fisher_noncentral_cdf,
    parse_exposition,
    quantile,
)

SMALL = Thresholds(min_requests=30, min_order_posts=12, min_exposures=5)


def window(requests=200, errors=0, order_posts=60, order_errors=0, orders=60, exposures=40, fast=True, **refusals) -> Window:
    # Cumulative buckets: every order POST under 0.1 s, or a tail of 5% above 1 s.
    slow = 0 if fast else round(order_posts * 0.05)
    latency = {"0.1": order_posts - slow, "1.0": order_posts - slow, "2.5": order_posts, "+Inf": order_posts}
    return Window(requests, errors, order_posts, order_errors, dict(refusals), orders, exposures, latency)


def status_of(verdict, name: str) -> str:
    return next(c.status for c in verdict.checks if c.name == name)


def test_an_equal_canary_passes():
    verdict = analyse(
        window(requests=400, order_posts=120, orders=120, exposures=80), window(requests=900, order_posts=300, orders=300, exposures=200)
    )
    assert verdict.status == PASS, verdict.table()


def test_p99_of_a_few_order_posts_is_not_judged():
    verdict = analyse(window(order_posts=60, fast=False), window(order_posts=300, orders=300, exposures=200))
    assert status_of(verdict, "order POST latency p99") == WAIT


def test_an_idle_night_neither_passes_nor_fails():
    verdict = analyse(window(requests=3, order_posts=1, orders=1, exposures=1), window(requests=5, order_posts=2, orders=2, exposures=2))
    assert verdict.status == WAIT
    assert {c.status for c in verdict.checks} == {WAIT}


def test_one_in_five_order_posts_failing_fails_the_canary():
    verdict = analyse(window(order_posts=15, order_errors=3, errors=3, orders=12, exposures=10), window(order_posts=60), SMALL)
    assert verdict.status == FAIL
    assert [c.name for c in verdict.failed] == ["5xx ratio, order POSTs"]


def test_a_single_error_in_a_small_sample_is_not_enough_to_fail():
    verdict = analyse(window(order_posts=15, order_errors=1, errors=1, orders=14, exposures=10), window(order_posts=60), SMALL)
    assert status_of(verdict, "5xx ratio, order POSTs") == PASS


def test_a_canary_no_worse_than_an_erring_stable_passes():
    verdict = analyse(window(order_posts=100, order_errors=5, errors=5), window(order_posts=400, order_errors=20, errors=20))
    assert status_of(verdict, "5xx ratio, order POSTs") == PASS


def test_refusals_are_judged_per_reason():
    verdict = analyse(window(order_posts=60, validation=20), window(order_posts=300, validation=15))
    assert [c.name for c in verdict.failed] == ["orders refused: validation"]


def test_a_slow_order_post_tail_fails_latency():
    verdict = analyse(window(order_posts=120, orders=120, exposures=80, fast=False), window(order_posts=400, orders=400, exposures=270))
    assert [c.name for c in verdict.failed] == ["order POST latency p99"]


def test_a_canary_that_sells_far_less_per_visitor_fails():
    verdict = analyse(window(orders=5, exposures=40), window(orders=300, exposures=200))
    assert [c.name for c in verdict.failed] == ["orders per visitor"]


def test_a_canary_handed_more_than_its_share_of_new_visitors_is_not_failed():
    """The counts of a `make test` run that rolled a canary back on this check alone: at 25% of
    the variant's requests it served half the step's beacons (8 of 16) but its share of the orders.
    Its visitors were as much a sample as its orders; judged on exposures as fixed, 6 orders looked
    improbably few (binomial tail 0.005), on the whole table they are not (0.10)."""
    verdict = analyse(window(orders=6, exposures=8), window(orders=35, exposures=8), SMALL)
    assert verdict.checks[-1].name == "orders per visitor" and verdict.checks[-1].status == PASS


def test_identical_versions_placed_per_request_rarely_fail_orders_per_visitor():
    """Both versions run the same code; the load balancer places each beacon and each order on the
    canary with the canary's share, as HAProxy and the ALB place requests inside a variant. In short
    steps, whose canary has just reached its minimum of visitors, the check must fail no more often
    than its alpha (1%) allows. Judging the canary's orders against its visitors taken as fixed
    failed 1.4-3.6% of these steps."""
    rng = np.random.default_rng(20261206)
    for share, mean_visitors in ((0.1, 24), (0.2, 16), (0.25, 10)):  # the canary's visitors: about 2.4, 3.2, 2.5
        failed = judged = 0
        for _ in range(3000):
            visitors = int(rng.poisson(mean_visitors))
            orders = int(rng.binomial(3 * visitors, 0.8))  # a visitor looks, then orders: about 2.4 orders each
            canary_visitors, canary_orders = int(rng.binomial(visitors, share)), int(rng.binomial(orders, share))
            canary = window(orders=canary_orders, exposures=canary_visitors)
            stable = window(orders=orders - canary_orders, exposures=visitors - canary_visitors)
            check = analyse(canary, stable, SMALL).checks[-1]
            judged += check.status != WAIT
            failed += check.status == FAIL
        assert judged > 250 and failed / judged <= SMALL.alpha, (share, failed, judged)


def test_a_canary_whose_orders_mostly_fail_is_failed_on_orders_per_visitor():
    verdict = analyse(window(orders=10, exposures=40), window(orders=360, exposures=150), SMALL)
    assert [c.name for c in verdict.failed] == ["orders per visitor"]


def test_a_conversion_ratio_of_zero_turns_the_check_off():
    verdict = analyse(window(orders=0, exposures=40), window(orders=360, exposures=150), Thresholds(min_conversion_ratio=0.0))
    assert verdict.checks[-1].status == PASS


@pytest.mark.parametrize(
    ("x", "total", "marked", "drawn", "odds"),
    [(6, 57, 41, 14, 0.5), (0, 10, 3, 4, 2.0), (12, 400, 130, 60, 0.5), (30, 200, 90, 70, 1.0), (3, 20, 5, 18, 0.5)],
)
def test_the_noncentral_hypergeometric_tail_agrees_with_scipy(x, total, marked, drawn, odds):
    expected = stats.nchypergeom_fisher(total, marked, drawn, odds).cdf(x)
    assert fisher_noncentral_cdf(x, total, marked, drawn, odds) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_quantile_interpolates_like_histogram_quantile():
    assert quantile(0.5, {"0.1": 0, "0.2": 10, "+Inf": 10}) == pytest.approx(0.15)
    assert quantile(0.99, {"0.1": 5, "+Inf": 10}) == 0.1  # in the +Inf bucket: the last finite bound
    assert quantile(0.99, {"+Inf": 0}) is None


def test_binomial_tail_holds_for_a_day_of_requests():
    assert binomial_sf(0, 10, 0.3) == pytest.approx(1.0)
    assert binomial_sf(3, 15, 0.01) == pytest.approx(0.000416, rel=0.01)
    assert binomial_sf(600, 40_000, 0.01) < 1e-3  # no overflow on large counts


def test_the_exposition_of_a_real_registry_is_read_into_a_window():
    registry = CollectorRegistry()
    labels = {"variant": "a", "theme": "classic"}
    requests = Counter("pizza_http_requests", "", [*labels, "route", "method", "status_class"], registry=registry)
    latency = Histogram("pizza_http_request_duration_seconds", "", [*labels, "route", "method"], registry=registry, buckets=(0.1, 1.0))
    refusals = Counter("pizza_order_refusals", "", [*labels, "channel", "reason"], registry=registry)
    requests.labels(**labels, route="api-v1:orders", method="POST", status_class="2xx").inc(8)
    requests.labels(**labels, route="api-v1:orders", method="POST", status_class="5xx").inc(2)
    requests.labels(**labels, route="orders:home", method="GET", status_class="5xx").inc(1)
    requests.labels(**labels, route="static", method="GET", status_class="2xx").inc(50)
    for seconds in (0.05, 0.05, 0.5):
        latency.labels(**labels, route="api-v1:orders", method="POST").observe(seconds)
    latency.labels(**labels, route="orders:home", method="GET").observe(5)
    refusals.labels(**labels, channel="web", reason="csrf").inc(4)
    got = parse_exposition(generate_latest(registry).decode())
    assert (got.requests, got.errors, got.order_posts, got.order_errors) == (11, 3, 10, 2)
    assert got.refusals == {"csrf": 4}
    assert got.latency == {"0.1": 2, "1.0": 3, "+Inf": 3}


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is missing: install Debian's `prometheus` package (.ci/run does)")
    return found


def test_prometheus_evaluates_every_query_of_the_prometheus_source(tmp_path):
    """Canary and stable series side by side; each query must select the canary's only, over the window."""
    base = 'variant="a",theme="classic",namespace="pizza-a"'
    series = []
    for service, step in (("pizza-a-canary", 1), ("pizza-a", 100)):
        own = f'{base},service="{service}"'
        series += [
            {
                "series": f'pizza_http_requests_total{{{own},route="api-v1:orders",method="POST",status_class="5xx"}}',
                "values": f"0+{step}x10",
            },
            {
                "series": f'pizza_http_requests_total{{{own},route="orders:home",method="GET",status_class="2xx"}}',
                "values": f"0+{step * 2}x10",
            },
            {"series": f'pizza_http_requests_total{{{own},route="static",method="GET",status_class="2xx"}}', "values": f"0+{step * 7}x10"},
            {"series": f'pizza_order_refusals_total{{{own},channel="web",reason="csrf"}}', "values": f"0+{step}x10"},
            {
                "series": f'pizza_http_request_duration_seconds_bucket{{{own},route="api-v1:orders",method="POST",le="0.1"}}',
                "values": f"0+{step}x10",
            },
        ]
    canary = 'namespace="pizza-a",service="pizza-a-canary"'
    expected = {"requests": 30, "errors": 10, "order_posts": 10, "order_errors": 10, "refusals": 10, "latency": 10}
    cases = [
        {
            "expr": s.promql(canary, "10m"),
            "eval_time": "10m",
            "exp_samples": [
                {"labels": f'{{{s.by}="{"csrf" if s.by == "reason" else "0.1"}"}}' if s.by else "{}", "value": expected[s.field]}
            ],
        }
        for s in SERIES
        if s.field in expected
    ]
    (tmp_path / "rules.yaml").write_text("groups: []\n")
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": cases}],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    result = subprocess.run([promtool(), "test", "rules", "test.yaml"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
