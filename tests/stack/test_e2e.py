"""End to end: the real local stack on PostgreSQL. Orders placed anywhere are seen everywhere."""

from __future__ import annotations

import collections
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from stack import APP_DIR
from stack.deploy.rollout import roll
from stack.local.haproxy import COOKIE
from stack_support import broken_copy, place_order, staff_session

pytestmark = pytest.mark.stack


def test_orders_from_the_split_and_each_variant_appear_on_every_staff_table(stack):
    placed = {}
    for i in range(6):  # through the load balancer, a new visitor each time
        reference, served_by = place_order(requests.Session(), stack.url().rstrip("/"), f"split-{i}")
        placed[reference] = served_by
    for name in stack.names:  # straight to each variant
        reference, served_by = place_order(requests.Session(), stack.variant_url(name).rstrip("/"), f"direct-{name}")
        assert served_by == name
        placed[reference] = served_by
    for viewer in stack.names:
        table = staff_session(stack.variant_url(viewer).rstrip("/")).get(stack.variant_url(viewer, "/staff/orders/"), timeout=10)
        assert table.headers["X-Pizza-Variant"] == viewer
        for reference, served_by in placed.items():
            assert reference in table.text, f"order {reference} from {served_by} missing on {viewer}'s table"
    assert set(placed.values()) == set(stack.names)


def test_split_follows_the_weights_and_sticks(stack):
    counts = collections.Counter()
    for _ in range(300):
        counts[requests.get(stack.url("/healthz"), timeout=5).headers["X-Pizza-Variant"]] += 1
    assert set(counts) == set(stack.names)
    for name in stack.names:  # 34/33/33: each gets roughly a third (binomial, 300 draws)
        assert 60 <= counts[name] <= 150, counts
    visitor = requests.Session()
    first = visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"]
    assert visitor.cookies.get(COOKIE) == first
    assert {visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] for _ in range(20)} == {first}


def test_only_ready_variants_get_traffic_and_sticky_visitors_move_on(stack):
    visitor = requests.Session()
    visitor.cookies.set(COOKIE, "b")
    assert visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] == "b"
    stack.stop_variant("b")
    try:
        deadline = time.monotonic() + 10
        while stack.server_states().get("b1") != "DOWN" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack.server_states()["b1"] == "DOWN"
        served = collections.Counter(requests.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] for _ in range(60))
        assert "b" not in served and sum(served.values()) == 60
        assert visitor.get(stack.url(), timeout=5).headers["X-Pizza-Variant"] in {"a", "c"}
    finally:
        stack.start_variant("b")
        assert stack.wait_ready("b", timeout=30)


class Stranger(BaseHTTPRequestHandler):
    """Another program on one of the stack's ports: 200 to everything, even claiming to be variant a."""

    def do_GET(self):
        body = b"not pizza b"
        self.send_response(200)
        self.send_header("X-Pizza-Variant", "a")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_stranger_on_a_slot_port_is_kept_down_and_gets_no_traffic(stack):
    """HAProxy marks a server UP only when it answers /readyz as the slot's own variant."""
    port = stack.ports.variant(stack.index("b"), 2)
    server = ThreadingHTTPServer(("127.0.0.1", port), Stranger)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        stack.set_server_state("b", 2, "ready")
        # Wait until HAProxy's checks have reached the stranger (a layer-7 verdict, no longer a refused
        # connection), then for longer than `rise 2` x `downinter 1s` would need to bring it UP.
        deadline = time.monotonic() + 15
        while not stack.server_stats()["b2"].get("check_status", "").startswith("L7") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stack.server_stats()["b2"]["check_status"].startswith("L7"), stack.server_stats()["b2"]
        seen = set()
        until = time.monotonic() + 3.5
        while time.monotonic() < until:
            seen.add(stack.server_states()["b2"])
            time.sleep(0.1)
        assert seen == {"DOWN"}, seen
        visitor = requests.Session()
        visitor.cookies.set(COOKIE, "b")
        answers = [visitor.get(stack.url("/healthz"), timeout=5) for _ in range(20)]
        assert all(a.headers["X-Pizza-Variant"] == "b" and a.json()["variant"] == "b" for a in answers)
        assert stack.server_states()["b1"] == "UP"
    finally:
        server.shutdown()
        server.server_close()


def test_a_release_that_cannot_start_is_caught_and_named(stack, tmp_path):
    """The deploy's gate, locally: a build that never becomes ready fails its rollout with a
    non-zero result naming the release, and the previous version keeps serving."""
    result = roll(stack, "c", app_dir=broken_copy(tmp_path, stack_app_dir()), deadline=15)
    assert not result.ok
    assert "rollout of release pizza-c failed" in result.message
    assert "broken build" in result.message
    assert requests.get(stack.variant_url("c", "/readyz"), timeout=5).status_code == 200
    assert stack.server_states()["c2"] == "DOWN"


def test_rolling_a_good_release_swaps_slots_without_downtime(stack):
    result = roll(stack, "a", deadline=30)
    assert result.ok, result.message
    assert ("a", 2) in stack.processes and ("a", 1) not in stack.processes
    assert requests.get(stack.variant_url("a", "/readyz", slot=2), timeout=5).status_code == 200


def stack_app_dir():
    return APP_DIR


def test_the_variants_reach_postgresql_only_through_the_pool(stack):
    """Every variant's connections are PgBouncer clients; PostgreSQL sees only PgBouncer's few."""
    import os

    from stack.services.pgbouncer import shared_for_tests

    pool = shared_for_tests(os.environ["TEST_DATABASE_URL"])
    database = stack.database_url.rsplit("/", 1)[1]
    for name, slot in list(stack.processes):  # earlier tests may have rolled a variant to its other slot
        assert requests.get(stack.variant_url(name, "/order/", slot=slot), timeout=10).status_code == 200
    clients = [c for c in pool.show("CLIENTS") if c["database"] == database]
    assert {c["application_name"] for c in clients} >= {f"pizza-{name}" for name in stack.names}
    servers = [s for s in pool.show("SERVERS") if s["database"] == database]
    assert 0 < len(servers) <= pool.pool_size < len(clients) + pool.pool_size


def test_an_oversized_form_through_haproxy_gets_the_413_page_never_a_reset(stack):
    """10 MB form bodies: the app drains them and answers its themed 413 naming the limit (issue 16);
    above the drain cap HAProxy refuses them itself with 413. Ten of ten answered, no resets."""
    from config.limits import MAX_DRAIN_BYTES

    body = b"comments=" + b"x" * (10 * 1024 * 1024)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(10):
        response = requests.post(stack.url("/order/"), data=body, headers=form, timeout=30)
        assert response.status_code == 413
        assert "256 KB" in response.text and "data-theme=" in response.text
    huge = requests.post(stack.url("/order/"), data=b"x" * (MAX_DRAIN_BYTES + 1), headers=form, timeout=30)
    assert huge.status_code == 413


def test_the_variants_run_as_the_web_role_which_cannot_change_the_schema(stack):
    """Production's two roles on the running stack: every variant's pool client is the web role
    (stack/db_roles.py), and that login is refused DDL; the owner migrated (the tables exist)."""
    import os
    from urllib.parse import urlsplit

    import psycopg2

    from stack.db_roles import role_names
    from stack.services.pgbouncer import shared_for_tests

    pool = shared_for_tests(os.environ["TEST_DATABASE_URL"])
    database = urlsplit(stack.database_url).path.lstrip("/")
    owner, web = role_names(database)
    assert urlsplit(stack.database_url).username == web and urlsplit(stack.migrate_database_url).username == owner
    for name, slot in list(stack.processes):
        assert requests.get(stack.variant_url(name, "/order/", slot=slot), timeout=10).status_code == 200
    clients = [c for c in pool.show("CLIENTS") if c["database"] == database and c["application_name"].startswith("pizza-")]
    assert clients and {c["user"] for c in clients} == {web}
    with psycopg2.connect(stack.database_url, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_migrations")  # rows: yes
        assert cur.fetchone()[0] > 0
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("CREATE TABLE e2e_web_may_not (id int)")
    conn.close()
