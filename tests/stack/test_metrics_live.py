"""A real Prometheus scraping A, B and C (two gunicorn workers each) on PostgreSQL.

Metrics are reachable on each process's metrics port only; counters summed over workers equal what
the database holds; the shipped error-ratio alert (windows shortened 20x) goes pending then firing
for a variant whose database is broken, and never for the healthy ones; every metric name the
Grafana dashboard and the alerts use is really exported.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from stack.local import PortPlan
from stack.local.ports import port_of
from stack.local.prometheus import Prometheus, binary, stack_targets
from stack_support import fresh_database, place_order, staff_session, started_stack

pytestmark = pytest.mark.stack

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = REPO_ROOT / "chart" / "files" / "grafana-dashboard.json"
RULES = REPO_ROOT / "chart" / "files" / "prometheus-rules.yaml"
# The one series the alerts take from outside the app: kube-state-metrics' view of each Deployment.
EXTERNAL = {"kube_deployment_status_replicas_available"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf", "nan"}


@pytest.fixture(scope="module")
def entry() -> int:
    """Its own block of the test run (stack/local/ports.py TEST_PORTS), never the e2e stack's."""
    return port_of("metrics_live")


@pytest.fixture(scope="module")
def stack(tmp_path_factory, entry):
    """Two workers per variant, so every count below is a sum over processes."""
    database_url = fresh_database(os.environ.get("TEST_DATABASE_NAME", "pizza_test") + "_obs")
    with started_stack(tmp_path_factory.mktemp("stack"), entry, database_url, workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def prometheus(stack, entry, tmp_path_factory):
    if not binary():
        pytest.fail("prometheus is missing: install Debian's `prometheus` package (.ci/run does)")
    server = Prometheus(
        tmp_path_factory.mktemp("prometheus"),
        port=PortPlan(entry).prometheus,
        targets=stack_targets(stack),
        interval="2s",
        time_factor=1 / 20,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def scrape(entry: int, index: int) -> dict[tuple, float]:
    """One variant's /metrics as {(sample name, sorted labels): value}."""
    text = requests.get(f"http://127.0.0.1:{PortPlan(entry).metrics(index)}/metrics", timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def database_counts(stack, sql: str) -> dict[tuple, int]:
    with psycopg2.connect(stack.database_url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    conn.close()
    return {tuple(row[:-1]): row[-1] for row in rows}


def wait_for(check, timeout: float = 30.0, pause: float = 0.5):
    """Poll check() until it returns something truthy; the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(pause)


def test_metrics_are_served_on_the_metrics_port_only(stack, entry, prometheus):
    through_haproxy = requests.get(stack.url("/metrics"), timeout=5)
    assert through_haproxy.status_code == 404 and "X-Pizza-Variant" not in through_haproxy.headers  # HAProxy's own deny
    spoofed = requests.get(stack.url("/metrics"), headers={"Host": f"127.0.0.1:{PortPlan(entry).metrics(0)}"}, timeout=5)
    assert spoofed.status_code == 404
    for index, name in enumerate(stack.names):
        public = requests.get(stack.variant_url(name, "/metrics"), timeout=5)
        assert public.status_code == 404 and b"pizza_http_requests" not in public.content
        private = requests.get(f"http://127.0.0.1:{PortPlan(entry).metrics(index)}/metrics", timeout=5)
        assert private.status_code == 200 and f'pizza_build_info{{theme="{stack.variants.variants[name].theme}"' in private.text
        assert requests.get(f"http://127.0.0.1:{PortPlan(entry).metrics(index)}/", timeout=5).status_code == 404
    up = wait_for(lambda: {r["metric"]["service"] for r in prometheus.query("up == 1")} == {f"pizza-{n}" for n in stack.names})
    assert up, prometheus.targets_up()


def test_prometheus_counts_equal_the_database(stack, entry, prometheus):
    base = stack.url().rstrip("/")
    for i in range(9):  # the customer's path through the split: a new visitor each time
        place_order(requests.Session(), base, f"obs-{i}")
    pizza = requests.get(stack.url("/api/v1/menu"), timeout=5).json()["pizzas"][0]["id"]
    body = {"pizza": pizza, "size": "small", "quantity": 1, "customer_name": "Api", "phone": "+4512345678", "address": "Road 1"}
    for _ in range(3):
        key = str(uuid.uuid4())
        for _attempt in range(2):  # the retry returns the same order: counted once
            answer = requests.post(stack.url("/api/v1/orders"), json=body, headers={"Idempotency-Key": key}, timeout=10)
            assert answer.status_code in (200, 201), answer.text
    # Staff use A (which stays up for the whole module: the dashboard test reads this series there).
    staff_base = stack.variant_url("a").rstrip("/")
    staff = staff_session(staff_base)
    (ref,) = next(iter(database_counts(stack, "SELECT reference, 1 FROM orders_order ORDER BY id LIMIT 1")))
    moved = staff.post(
        f"{staff_base}/staff/orders/{ref}/status/",
        data={"expected": "received", "status": "baking"},
        headers={"Accept": "application/json", "X-CSRFToken": staff.cookies.get("csrftoken", ""), "Referer": f"{staff_base}/staff/orders/"},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text

    orders = database_counts(stack, "SELECT variant, channel, count(*) FROM orders_order GROUP BY 1, 2")
    exposures = database_counts(stack, "SELECT variant, count(*) FROM experiment_assignment GROUP BY 1")
    assert sum(orders.values()) == 12 and len({v for v, _ in orders}) >= 2
    assert sum(exposures.values()) == 9  # each web customer's form view, counted once its beacon came back

    def promql_view():
        return (
            {
                (r["metric"]["variant"], r["metric"]["channel"]): int(r["value"])
                for r in prometheus.query("sum by (variant, channel) (pizza_orders_placed_total) > 0")
            },
            {(r["metric"]["variant"],): int(r["value"]) for r in prometheus.query("sum by (variant) (pizza_exposures_recorded_total) > 0")},
            [
                r["value"]
                for r in prometheus.query(
                    'sum(pizza_order_status_changes_total{from_status="received",to_status="baking",outcome="changed"})'
                )
            ],
        )

    expected = (orders, exposures, [1.0])
    assert wait_for(lambda: promql_view() == expected, timeout=60), (promql_view(), expected)

    # Whichever of the two workers answers a scrape, it reports the whole process group's counters.
    for index, name in enumerate(stack.names):
        totals = set()
        for _ in range(8):
            samples = scrape(entry, index)
            totals.add(sum(v for (n, labels), v in samples.items() if n == "pizza_orders_placed_total"))
        assert totals == {float(sum(c for (v, _), c in orders.items() if v == name))}, name


def test_error_ratio_alert_fires_for_the_broken_variant_only(stack, prometheus, tmp_path):
    """C restarts with a database URL that cannot connect: every page is a 503 (stored nothing)."""
    broken = stack.database_url.rsplit("/", 1)[0] + "/pizza_obs_no_such_database"
    stack.stop_variant("c")
    stack.start_variant("c", env={"DATABASE_URL": broken})
    assert wait_for(lambda: answers(stack.variant_url("c", "/healthz")), timeout=60)
    seen: dict[str, list[str]] = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert requests.get(stack.variant_url("c", "/"), timeout=5).status_code == 503
        for healthy in ("a", "b"):
            assert requests.get(stack.variant_url(healthy, "/"), timeout=5).status_code == 200
        for alert in prometheus.alerts():
            if alert["labels"]["alertname"] == "PizzaErrorRatioHigh":
                states = seen.setdefault(alert["labels"]["variant"], [])
                if not states or states[-1] != alert["state"]:
                    states.append(alert["state"])
        if seen.get("c", [])[-1:] == ["firing"]:
            break
        time.sleep(0.3)
    assert seen.get("c") == ["pending", "firing"], seen
    assert set(seen) == {"c"}, seen
    # The cause is visible too. C stays broken: the module's stack is stopped after the last test.
    errors = prometheus.query('sum by (stage) (pizza_db_errors_total{variant="c"})')
    assert [(r["metric"]["stage"], r["value"] > 0) for r in errors] == [("connect", True)], errors


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def metric_names(promql: str) -> set[str]:
    """The metric names a PromQL expression reads (label matchers, groupings, strings and ranges removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", promql)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        after = text[match.end() :].lstrip()
        if after.startswith("(") or match.group().lower() in PROMQL_WORDS or text[match.start() - 1 : match.start()] == "$":
            continue
        names.add(match.group())
    return names


def dashboard_expressions() -> list[str]:
    board = json.loads(DASHBOARD.read_text())
    expressions = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            expressions += re.findall(r"label_values\(([^,)]+)", query.get("query", ""))
    return expressions


def test_dashboard_and_alerts_use_only_exported_metric_names(stack, entry):
    """Runs last: by now the stack has served orders, refusals-free traffic, a status change and DB errors."""
    exported: set[str] = set()
    for index in range(len(stack.names)):
        exported |= {name for name, _ in scrape(entry, index)}
    assert metric_names('histogram_quantile(0.99, sum by (variant, le) (rate(x_bucket{route="a"}[5m]))) / on (variant) y') == {
        "x_bucket",
        "y",
    }
    for expr in dashboard_expressions():
        assert metric_names(expr), expr
        assert metric_names(expr) <= exported, f"dashboard reads {sorted(metric_names(expr) - exported)}, not exported: {expr}"
    groups = yaml.safe_load(RULES.read_text())["groups"]
    recorded = {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
    for group in groups:
        for rule in group["rules"]:
            unknown = metric_names(rule["expr"]) - exported - recorded - EXTERNAL
            assert not unknown, f"{rule.get('alert') or rule.get('record')} reads {sorted(unknown)}, not exported"
