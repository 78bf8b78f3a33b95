"""The read replica, for real: A, B and C on a primary and a streaming standby that lags 500 ms.

Stale-tolerant pages read from the standby (its statement log says so), writes never reach it,
a visitor who just wrote reads their own writes, and a stopped standby costs nothing but speed.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from stack.http import form_fields
from stack.local import PortPlan, Stack
from stack.local.ports import port_of
from stack.services import service_port
from stack.services.replica import start_pair, teardown
from stack_support import place_order, staff_session

pytestmark = [pytest.mark.stack, pytest.mark.slow]

LAG_MS = 500
PIN_SECONDS = 2
DATABASE = "pizza_replica"


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    """(stack, primary, standby): the three variants read stale-tolerant pages from the standby."""
    primary, standby = start_pair(service_port("replica_primary"), service_port("replica_standby"), apply_delay_ms=LAG_MS)
    running = None
    try:
        primary.execute(f"CREATE DATABASE {DATABASE}")
        entry = port_of("replica")
        running = Stack(
            env="dev",
            state_dir=tmp_path_factory.mktemp("replica-stack"),
            ports=PortPlan(entry),
            database_url=f"postgres://postgres@127.0.0.1:{primary.port}/{DATABASE}",
            quiet=True,
            workers=1,
            threads=4,
            extra_env={
                "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{standby.port}/{DATABASE}",
                "REPLICA_PIN_SECONDS": str(PIN_SECONDS),
            },
        )
        running.start(staff_password="replica-staff-password")
        standby.wait_caught_up()
        yield running, primary, standby
    finally:
        if running:
            running.stop()
        teardown(primary, standby)


def staff(stack, variant: str) -> requests.Session:
    base = stack.variant_url(variant).rstrip("/")
    session = staff_session(base, "replica-staff-password")
    time.sleep(PIN_SECONDS + 0.2)  # the login wrote (last_login): let its pin to the primary expire
    return session


def row_status(html: str, reference: str) -> str:
    row = re.search(rf'<tr data-reference="{reference}">(.*?)</tr>', html, re.S)
    assert row, f"{reference} is not on the table"
    cell = re.search(r'<td\b[^>]*\bclass="status"[^>]*>([^<]*)</td>', row.group(1))  # the cell carries data-label too
    assert cell, f"{reference}'s row has no status cell: {row.group(1)[:300]}"
    return cell.group(1).strip()


def replica_statements(standby, since: int) -> list[str]:
    return [line for line in standby.log_text()[since:].splitlines() if "statement:" in line]


def test_an_order_then_its_confirmation_and_status_never_404_under_lag(replicated):
    stack, _, _ = replicated
    for i in range(6):
        variant, other = stack.names[i % 3], stack.names[(i + 1) % 3]
        customer = requests.Session()
        base = stack.variant_url(variant).rstrip("/")
        form = customer.get(f"{base}/order/", timeout=10)
        pizza = re.search(r'name="pizza" value="(\d+)"', form.text).group(1)
        data = {
            **form_fields(form.text),
            "pizza": pizza,
            "size": "small",
            "quantity": "1",
            "customer_name": f"lagged-{i}",
            "phone": "+4520304050",
            "address": "Lag Lane 1",
            "comments": "",
        }
        confirmation = customer.post(f"{base}/order/", data=data, headers={"Referer": f"{base}/order/"}, timeout=10)
        assert confirmation.status_code == 200 and confirmation.history, confirmation.text[:300]
        # the status page straight away, on another variant, well inside the standby's 500 ms delay
        status_path = confirmation.url.split(base, 1)[1].replace("/confirmed/", "/")
        status = customer.get(stack.variant_url(other, status_path), timeout=10)
        assert status.status_code == 200 and f"lagged-{i}" in confirmation.text + status.text


def test_staff_table_reads_reach_the_replica_and_writes_never_do(replicated):
    stack, _, standby = replicated
    reference, _ = place_order(requests.Session(), stack.variant_url("a").rstrip("/"), "replica-reader")
    standby.wait_caught_up()
    session = staff(stack, "b")
    since = len(standby.log_text())
    table = session.get(stack.variant_url("b", "/staff/orders/"), timeout=10)
    assert table.status_code == 200 and reference in table.text
    seen = replica_statements(standby, since)
    assert any("app=pizza-b" in line and '"orders_order"' in line and "SELECT" in line for line in seen), seen[-5:]
    since = len(standby.log_text())
    menu = requests.get(stack.variant_url("b", "/api/v1/menu"), timeout=10)  # the mobile app's menu (api-v1:menu)
    assert menu.status_code == 200 and menu.json()["pizzas"], menu.text[:300]
    seen = replica_statements(standby, since)
    assert any("app=pizza-b" in line and '"orders_pizza"' in line and "SELECT" in line for line in seen), seen[-5:]
    writes = [
        line
        for line in standby.log_text().splitlines()
        if re.search(r"statement: (INSERT|UPDATE|DELETE)\b", line) or "read-only transaction" in line
    ]
    assert writes == []


def test_a_status_change_shows_on_the_next_table_despite_lag(replicated):
    stack, _, standby = replicated
    reference, _ = place_order(requests.Session(), stack.variant_url("c").rstrip("/"), "replica-status")
    standby.wait_caught_up()
    session = staff(stack, "a")
    base = stack.variant_url("a").rstrip("/")
    table = session.get(f"{base}/staff/orders/", timeout=10)
    assert row_status(table.text, reference) == "Received"
    token = form_fields(table.text)["csrfmiddlewaretoken"]
    done = session.post(
        f"{base}/staff/orders/{reference}/status/",
        timeout=10,
        headers={"Referer": f"{base}/staff/orders/"},
        data={"csrfmiddlewaretoken": token, "expected": "received", "status": "baking"},
    )
    assert done.status_code == 200 and done.history and done.history[0].status_code == 302
    assert row_status(done.text, reference) == "Baking"  # the redirect's table, read within the lag
    # another variant, straight after: the pin cookie travels with the staff member
    assert row_status(session.get(stack.variant_url("b", "/staff/orders/"), timeout=10).text, reference) == "Baking"


def test_a_replica_that_has_caught_up_is_read_again_within_a_second(replicated):
    """After a quiet spell the first write looks like seconds of lag (it is timed from the last commit
    replayed) until it is applied; that false reading must not keep the replica away for long."""
    stack, primary, standby = replicated
    reference, _ = place_order(requests.Session(), stack.variant_url("a").rstrip("/"), "replica-quiet")
    session = staff(stack, "c")
    time.sleep(1)  # now more than REPLICA_MAX_LAG_SECONDS since the last commit (the login's)
    primary.execute(f"UPDATE orders_order SET comments = 'quiet' WHERE reference = '{reference}'", dbname=DATABASE)
    # c checks the replica while that commit waits out the standby's delay: it reads as lagging
    assert session.get(stack.variant_url("c", "/staff/orders/"), timeout=10).status_code == 200
    standby.wait_caught_up()
    time.sleep(1.2)  # the router's CHECK_SECONDS, and well inside its RETRY_SECONDS for a replica that is down
    since = len(standby.log_text())
    table = session.get(stack.variant_url("c", "/staff/orders/"), timeout=10)
    assert table.status_code == 200 and reference in table.text
    seen = replica_statements(standby, since)
    assert any("app=pizza-c" in line and '"orders_order"' in line and "SELECT" in line for line in seen), seen[-5:]


def test_a_replica_lagging_past_the_bound_is_skipped(replicated):
    stack, _, standby = replicated
    session = staff(stack, "b")
    standby.query("SELECT pg_wal_replay_pause()")  # the standby receives WAL but applies none of it
    try:
        reference, _ = place_order(requests.Session(), stack.variant_url("c").rstrip("/"), "replica-paused")
        time.sleep(2 + 1 + 0.5)  # REPLICA_MAX_LAG_SECONDS, then each process's next check
        for variant in stack.names:
            table = session.get(stack.variant_url(variant, "/staff/orders/"), timeout=10)
            assert table.status_code == 200 and reference in table.text, f"{variant} read the paused replica"
    finally:
        standby.query("SELECT pg_wal_replay_resume()")


def test_with_the_replica_stopped_every_page_still_answers(replicated):
    stack, _, standby = replicated
    session = staff(stack, "c")
    standby.stop()
    reference, _ = place_order(requests.Session(), stack.variant_url("a").rstrip("/"), "replica-down")
    for variant in stack.names:
        table = session.get(stack.variant_url(variant, "/staff/orders/"), timeout=10)
        assert table.status_code == 200 and reference in table.text
        assert requests.get(stack.variant_url(variant, "/order/"), timeout=10).status_code == 200
        assert requests.get(stack.variant_url(variant, "/api/v1/menu"), timeout=10).status_code == 200
