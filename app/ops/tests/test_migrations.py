"""One schema, many versions: the gate, the single locked migration run, and N-1 compatibility."""

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from ops import readiness
from ops.gate import check_all, check_migration
from ops.migration_ops import AddIndexOnline
from ops.roles import add_roles
from ops.schema import MIGRATION_LOCK_KEY, contract_violations, parse_running
from orders.models import Order
from orders.tests.factories import ensure_seed

APP_DIR = Path(__file__).resolve().parents[2]

# Migrations hold session state (an advisory lock, DDL timeouts): like the migration job, these
# tests connect to PostgreSQL directly instead of through the transaction pooler.
pytestmark = pytest.mark.direct_db


def leaf(app="orders"):
    loader = MigrationLoader(connection)
    return [n for n in loader.graph.leaf_nodes() if n[0] == app][0]


def future_migration(*operations, contract_safe_from=None, atomic=True, name="0999_future"):
    """A migration one step ahead of the code, built in memory: the gate reads its real SQL."""
    migration = migrations.Migration(name, "orders")
    migration.dependencies = [leaf()]
    migration.operations = list(operations)
    migration.atomic = atomic
    if contract_safe_from:
        migration.contract_safe_from = contract_safe_from
    return migration


def gate(migration):
    return check_migration(migration, MigrationLoader(connection))


# --- the gate ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_migration_in_the_repository_passes_the_gate():
    checked, problems = check_all()
    assert checked >= 4
    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.django_db
def test_gate_rejects_not_null_column_without_database_default():
    problems = gate(future_migration(migrations.AddField("order", "gift", models.CharField(max_length=20, default="none"))))
    assert [p.rule for p in problems] == ["adds NOT NULL column gift without a database default"]
    assert "db_default" in problems[0].advice


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field",
    [
        models.CharField(max_length=20, db_default="none", default="none"),
        models.CharField(max_length=20, null=True),
    ],
)
def test_gate_accepts_the_same_column_added_safely(field):
    assert gate(future_migration(migrations.AddField("order", "gift", field))) == []


@pytest.mark.django_db
def test_gate_rejects_a_dropped_column():
    problems = gate(future_migration(migrations.RemoveField("order", "comments")))
    assert [p.rule for p in problems] == ["drops a column"]
    assert "contract step" in problems[0].advice


@pytest.mark.django_db
def test_gate_accepts_a_drop_marked_as_contract_step():
    assert gate(future_migration(migrations.RemoveField("order", "comments"), contract_safe_from="0003_order_channel")) == []


@pytest.mark.django_db
def test_gate_rejects_a_rename():
    problems = gate(future_migration(migrations.RenameField("order", "phone", "telephone")))
    assert [p.rule for p in problems] == ["renames a column or table"]
    assert "docs/schema-changes.md" in problems[0].advice


@pytest.mark.django_db
def test_gate_rejects_a_blocking_index_on_orders():
    index = models.Index(fields=["address"], name="order_address")
    problems = gate(future_migration(migrations.AddIndex("order", index)))
    assert [p.rule for p in problems] == ["builds an index without CONCURRENTLY (blocks writes to the table)"]
    assert "AddIndexOnline" in problems[0].advice


@pytest.mark.django_db
def test_gate_accepts_the_index_built_concurrently():
    index = models.Index(fields=["address"], name="order_address")
    assert gate(future_migration(AddIndexOnline("order", index), atomic=False)) == []


@pytest.mark.django_db
def test_gate_command_fails_with_the_reason(monkeypatch):
    from django.core.management.base import CommandError

    from ops.gate import Problem

    monkeypatch.setattr(
        "ops.management.commands.migration_gate.check_all",
        lambda: (1, [Problem("orders.0999_x", "drops a column", "ALTER TABLE ...", "do it later")]),
    )
    with pytest.raises(CommandError, match="orders.0999_x: drops a column"):
        call_command("migration_gate")


# --- contract steps -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_contract_step_is_refused_while_a_release_runs_older_code():
    step = future_migration(migrations.RemoveField("order", "comments"), contract_safe_from="0005_stop_reading_comments")
    problems = contract_violations([step], parse_running("a=orders.0005_stop_reading_comments,b=orders.0004_order_name_prefix_index"))
    assert len(problems) == 1
    assert "release b" in problems[0] and "0005_stop_reading_comments or newer" in problems[0]


@pytest.mark.django_db
def test_contract_step_is_allowed_once_every_release_is_past_it():
    step = future_migration(migrations.RemoveField("order", "comments"), contract_safe_from="0005_stop_reading_comments")
    assert contract_violations([step], parse_running("a=orders.0006_x,b=orders.0005_stop_reading_comments")) == []


def test_running_spec_must_be_well_formed():
    with pytest.raises(ValueError, match="release=app.migration"):
        parse_running("b-orders")


# --- one locked run -----------------------------------------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def migrate_process(*args):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.local", DATABASE_URL=database_url(), VARIANT="a")
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate_safely", *args],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def schema_one_step_behind(transactional_db):
    """Roll the orders schema back to 0002 (no channel column, no name index); restore it afterwards."""
    call_command("migrate", "orders", "0002", verbosity=0)
    readiness.reset()
    yield
    call_command("migrate", verbosity=0)
    readiness.reset()


@pytest.mark.slow  # two migrate processes and their lock waits
def test_two_runs_at_once_one_applies_the_other_waits_and_no_ops(schema_one_step_behind):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])  # both start while the lock is taken
        first, second = migrate_process(), migrate_process()
        deadline = time.monotonic() + 60  # a loaded machine may take a while to start two Djangos
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pizza-a' AND datname = current_database()")
            if cursor.fetchone()[0] >= 2:
                break
            time.sleep(0.2)
        time.sleep(1.5)  # both connected; each now polls the lock every 0.5 s
        assert first.poll() is None and second.poll() is None  # both are waiting, neither migrated
        cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
    outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    applied = [o for o in outputs if "applying orders.0003_order_channel" in o]
    no_ops = [o for o in outputs if "no migrations to apply" in o]
    assert len(applied) == 1 and len(no_ops) == 1, outputs
    assert all("another migration run holds the lock" in o for o in outputs)
    columns = [c.name for c in connection.introspection.get_table_description(connection.cursor(), "orders_order")]
    assert "channel" in columns


@pytest.mark.slow  # two migrate processes and their lock waits
def test_second_run_gives_up_after_its_lock_wait(schema_one_step_behind):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        try:
            output, _ = migrate_process("--lock-wait", "1").communicate(timeout=30)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
    assert "gave up after 1s waiting for the migration lock" in output


@pytest.mark.slow  # two migrate processes and their lock waits
def test_blocked_migration_fails_fast_while_orders_keep_flowing(schema_one_step_behind):
    """A long transaction holds orders_order; the ALTER gives up after lock_timeout instead of
    queueing every INSERT behind it for as long as that transaction lasts."""
    ensure_seed()
    blocker = connections.create_connection("default")
    blocker.connect()
    blocker.set_autocommit(False)
    blocker.cursor().execute("SELECT count(*) FROM orders_order")  # ACCESS SHARE until rollback
    stop, latencies, failures = threading.Event(), [], []

    def place_orders_like_the_older_release():
        writer = connections.create_connection("default")
        pizza_id = Order._meta.get_field("pizza").related_model.objects.values_list("pk", flat=True).first()
        while not stop.is_set():
            started = time.monotonic()
            try:
                with writer.cursor() as cur:
                    cur.execute(
                        "INSERT INTO orders_order (reference, access_token, form_token, pizza_id, size, quantity, unit_price,"
                        " total, customer_name, phone, address, comments, variant, visitor_id, status, created_at, updated_at)"
                        " VALUES (%s, %s, %s, %s, 'medium', 1, 10, 10, 'n', '+4511111111', 'a', '', 'b', '', 'received', now(), now())",
                        [uuid.uuid4().hex[:10].upper(), uuid.uuid4().hex, str(uuid.uuid4()), pizza_id],
                    )
                latencies.append(time.monotonic() - started)
            except Exception as exc:  # noqa: BLE001 - every failure is a test failure
                failures.append(exc)
            time.sleep(0.02)
        writer.close()

    thread = threading.Thread(target=place_orders_like_the_older_release)
    thread.start()
    try:
        started = time.monotonic()
        output, _ = migrate_process("--lock-timeout", "500ms", "--retries", "2", "--backoff", "0.2").communicate(timeout=60)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(10)
        blocker.rollback()
        blocker.close()
    assert "gave up after 3 attempts" in output and "lock_timeout=500ms" in output, output
    assert elapsed < 15
    assert failures == []
    assert len(latencies) > 10
    assert max(latencies) < 1.5  # an INSERT waits at most about one lock_timeout behind the queued ALTER


# --- N-1: the code keeps working on a schema one expand step ahead -----------------------------


@pytest.fixture
def schema_one_step_ahead(transactional_db):
    """Apply a real expand migration that this code does not know (a new nullable column and a new
    table), recorded in django_migrations as a newer release would leave it."""
    ensure_seed()
    step = future_migration(
        migrations.AddField("order", "gift_message", models.CharField(max_length=200, null=True)),
        migrations.CreateModel("Coupon", [("id", models.BigAutoField(primary_key=True)), ("code", models.CharField(max_length=20))]),
        name="0099_gift_message_and_coupons",
    )
    loader = MigrationLoader(connection)
    state = loader.project_state()
    with connection.schema_editor() as editor:
        after = step.apply(state.clone(), editor)
    MigrationRecorder(connection).record_applied("orders", step.name)
    readiness.reset()
    yield
    with connection.schema_editor() as editor:
        step.unapply(after, editor)
    MigrationRecorder(connection).record_unapplied("orders", step.name)
    readiness.reset()


def test_order_flow_and_staff_table_work_on_a_schema_one_step_ahead(schema_one_step_ahead, order_data, django_user_model):
    client = Client()
    assert client.get("/readyz").status_code == 200  # a database ahead is fine
    assert client.post("/order/", order_data).status_code == 303
    order = Order.objects.get(form_token=order_data["form_token"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT gift_message FROM orders_order WHERE id = %s", [order.pk])
        assert cursor.fetchone() == (None,)
    staff = django_user_model.objects.create_user("s", password="pw")
    add_roles(staff, "kitchen")
    client.force_login(staff)
    assert order.reference in client.get("/staff/orders/").content.decode()
    response = client.post(
        f"/staff/orders/{order.reference}/status/", {"expected": "received", "status": "baking"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200


def test_code_on_a_schema_behind_answers_503_not_500(schema_one_step_behind, order_data):
    """Until its migration runs, this code's readiness fails (no traffic) and a stray request gets 503."""
    client = Client()
    assert client.get("/readyz").status_code == 503
    response = client.post("/order/", order_data)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
