"""One restore drill, end to end.

1. a primary with WAL archiving; the A/B/C stack (HAProxy + gunicorn) on it, migrated;
2. the scaled form's bulk orders, then a base backup (the "automated snapshot");
3. live orders through HAProxy; the time T noted mid-stream; more orders; the WAL past T archived;
4. the disaster: the stack's processes and the primary stop;
5. a NEW cluster restored to T (base backup + archived WAL, recovery_target_time, promote), the
   releases pointed at it (their DATABASE_URL, as a values change does on AWS) and waited for;
6. the verification (verify.py) and one new order through the restored stack.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from dataclasses import dataclass, field

import requests

from .. import REPO_ROOT, StackError
from ..chaos.accounting import Result
from ..chaos.load import CUSTOMER
from ..http import http_get
from ..local import PortPlan, Stack
from .cluster import ArchivingPrimary, directory_bytes, restore_to
from .load import TimedLoad, insert_bulk
from .verify import fingerprint, verify_orders, verify_schema

NEW_SLOT = 2  # the releases pointed at the restored cluster run in the surge slot (stack/local/ports.py)


@dataclass
class Options:
    port: int = 48000  # the stack uses port..port+99, the two clusters port+100 and port+101
    size: int = 0  # bulk orders inserted before the base backup (the scaled form)
    lead: float = 10.0  # seconds of live orders on each side of T
    rate: float = 15.0  # orders per second through HAProxy
    views: float = 5.0  # page views per second beside them
    threads: int = 8
    env: str = "dev"


@dataclass
class Drill:
    options: Options
    result: Result = field(default_factory=lambda: Result(0, "restore drill"))
    figures: dict = field(default_factory=dict)


def say(message: str) -> None:
    print(f"[drill {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(options: Options) -> Drill:
    drill = Drill(options)
    primary = ArchivingPrimary(port=options.port + 100)
    stack = Stack(
        env=options.env,
        state_dir=REPO_ROOT / ".stack" / f"drill-{options.port}",
        ports=PortPlan(options.port),
        database_url=primary.pg.url,
        quiet=True,
        workers=1,
        threads=4,
    )
    restored = None
    try:
        restored = _run(drill, primary, stack)
    except StackError as exc:
        drill.result.error = str(exc)
    finally:
        stack.stop()
        primary.pg.teardown()
        if restored is not None:
            restored.teardown()
    return drill


def _run(drill: Drill, primary: ArchivingPrimary, stack: Stack):
    options, figures = drill.options, drill.figures
    say(f"primary with WAL archiving on 127.0.0.1:{primary.pg.port}; stack on {stack.url()}")
    primary.init()
    shutil.rmtree(stack.state_dir / "logs", ignore_errors=True)
    stack.start(staff_password="drill-" + uuid.uuid4().hex[:12])
    if options.size:
        say(f"inserting {options.size:,} bulk orders")
        figures["bulk_insert_s"] = insert_bulk(primary.pg, options.size)
    figures["backup_s"], figures["backup_bytes"] = primary.base_backup()
    say(f"base backup: {figures['backup_bytes'] / 2**20:.0f} MB in {figures['backup_s']:.1f}s")
    since_id = primary.pg.query("SELECT coalesce(max(id), 0) FROM orders_order")[0][0]
    load, target = place_orders(stack, options)
    primary.archive_now()
    before = fingerprint(primary.pg)
    figures["archive_bytes"] = directory_bytes(primary.archive)

    say("disaster: the releases and the primary stop")
    for variant, slot in list(stack.processes):
        stack.stop_variant(variant, slot)
    primary.pg.stop("immediate")

    start = time.monotonic()
    restored = restore_to(primary, target, port=options.port + 101)
    figures["restore_s"] = time.monotonic() - start
    say(f"restored to T and promoted in {figures['restore_s']:.1f}s; pointing the releases at it")
    # New processes in the surge slot, as a values change rolls out new pods (slot 1's ports may still
    # be held for a moment by what the old processes leave behind).
    stack.database_url = restored.url
    for name in stack.names:
        stack.start_variant(name, NEW_SLOT)
    not_ready = [name for name in stack.names if not stack.wait_ready(name, NEW_SLOT, timeout=120)]
    figures["rto_s"] = time.monotonic() - start
    drill.result.check("every release answers /readyz ready on the restored cluster (through HAProxy)", not not_ready)
    for name in not_ready:
        log = stack.processes[(name, NEW_SLOT)].log
        drill.result.notes.append(f"{name}{NEW_SLOT} not ready; last lines of {log}:\n" + "\n".join(log.read_text().splitlines()[-15:]))

    figures.update(verify_orders(restored, load, target, since_id, options.size, drill.result))
    verify_schema(before, restored, drill.result)
    drill.result.check("a new order is accepted and stored on the restored cluster", new_order_stored(stack, restored))
    drill.result.stats = load.stats
    return restored


def place_orders(stack: Stack, options: Options) -> tuple[TimedLoad, float]:
    """Orders on both sides of T; returns the load (with its times) and T (a wall time)."""
    status, _, body = http_get(stack.url("/api/v1/menu"), timeout=5)
    pizzas = [p["id"] for p in json.loads(body)["pizzas"]] if status == 200 else []
    if not pizzas:
        raise StackError(f"the menu is empty or unreachable ({status})")
    load = TimedLoad(stack.url(""), pizzas, options.rate, options.views, options.threads)
    with load:
        time.sleep(options.lead)
        target = time.time()
        say(f"T = {time.strftime('%H:%M:%S', time.gmtime(target))}.{int(target % 1 * 1000):03d} UTC, orders continue")
        time.sleep(options.lead)
    return load, target


def new_order_stored(stack: Stack, restored) -> bool:
    """The restored cluster is a writable primary: an order placed now gets stored."""
    _, _, body = http_get(stack.url("/api/v1/menu"), timeout=5)
    token = str(uuid.uuid4())
    order = dict(CUSTOMER, pizza=json.loads(body)["pizzas"][0]["id"])
    response = requests.post(
        stack.url("/api/v1/orders"), json=order, timeout=30, headers={"Idempotency-Key": token, "Accept": "application/json"}
    )
    if response.status_code not in (200, 201):
        return False
    return restored.query("SELECT count(*) FROM orders_order WHERE form_token = %s", (token,))[0][0] == 1
