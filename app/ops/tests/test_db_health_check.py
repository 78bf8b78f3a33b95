"""config.postgresql: the per-request health check runs no statement on a quiet connection, and still
replaces one the server has closed before the request's first query (real PostgreSQL, direct)."""

import time

import pytest
from django.db import OperationalError, connections
from django.db.backends.postgresql import base as stock

from config.postgresql import base as ours

pytestmark = [pytest.mark.direct_db, pytest.mark.django_db(transaction=True)]


def persistent(module):
    """A second connection to the test database, as production opens it: persistent, health-checked."""
    settings_dict = dict(connections["default"].settings_dict, CONN_MAX_AGE=300, CONN_HEALTH_CHECKS=True)
    wrapper = module.DatabaseWrapper(settings_dict, alias="health-check-test")
    wrapper.ensure_connection()
    return wrapper


def next_request(wrapper) -> None:
    """What Django does between two requests on a thread (request_finished, then request_started)."""
    wrapper.close_if_unusable_or_obsolete()


def backend_pid(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def last_statement(pid: int) -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


@pytest.mark.parametrize("module,statement", [(ours, "SELECT 'marker'"), (stock, "SELECT 1")], ids=["ours", "django"])
def test_a_quiet_connection_passes_the_check_without_a_round_trip(module, statement):
    wrapper = persistent(module)
    try:
        pid = backend_pid(wrapper)
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 'marker'")
        next_request(wrapper)
        wrapper.close_if_health_check_failed()  # what the request's first cursor() does first
        assert wrapper.health_check_done
        # The server's view of the connection: Django's check sent SELECT 1, ours sent nothing.
        assert last_statement(pid) == statement
        assert backend_pid(wrapper) == pid  # the same connection carries on
    finally:
        wrapper.close()


def wait_until_readable(wrapper, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while ours.idle_and_quiet(wrapper.connection):
        assert time.monotonic() < deadline, "the terminated connection's socket never became readable"
        time.sleep(0.02)


@pytest.mark.parametrize("health_checks", [True, False])
def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(health_checks):
    wrapper = persistent(ours)
    wrapper.health_check_enabled = health_checks
    try:
        pid = backend_pid(wrapper)
        with connections["default"].cursor() as cursor:  # a restart, a failover, an operator's kill
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        wait_until_readable(wrapper)
        next_request(wrapper)
        if health_checks:
            assert backend_pid(wrapper) != pid  # reconnected; the request's query succeeded
        else:  # the control: without the check the request's first query fails
            with pytest.raises(OperationalError):
                backend_pid(wrapper)
    finally:
        wrapper.close()


def test_the_socket_check_sees_a_terminated_connection_and_a_closed_one():
    wrapper = persistent(ours)
    raw = wrapper.connection
    try:
        assert ours.idle_and_quiet(raw)
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend_pid(wrapper)])
        wait_until_readable(wrapper)
        assert not ours.idle_and_quiet(raw)
    finally:
        wrapper.close()
    assert raw.closed and not ours.idle_and_quiet(raw)  # closed by the client
