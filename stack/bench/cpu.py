"""Python CPU per request, in-process: the real WSGI app on a real PostgreSQL, no HTTP server.

    python -m stack.bench.cpu [--db-name pizza_bench_cpu] [--rounds 7] [--n 150] [--profile post] [--app-dir DIR]

What `make bench` cannot show on a busy machine: its ratios move with the load, while the process
CPU time (time.process_time) spent inside the app's WSGI callable per request barely does. Each
round runs every scenario N times, alternating, and the median over rounds is printed (ms):

  post   an order POST as post.lua sends it (a new CSRF secret and form token each time), 303;
         also the part of it spent inside the view (form, statement, redirect)
  flow   the form GET, its exposure beacon, the POST and the confirmation GET, one customer
  staff  the staff table's first page (1,000 orders) for a kitchen user
  beacon the exposure beacon once recorded: the cheapest request, what every request pays

`--floor` measures the floor's order POST the same way (stack/bench/floor/, on <db-name>_floor);
`--floor-middleware` runs the product's order POST behind the floor's three middleware instead of
its own chain: a bound on what the product's middleware costs the POST.

The settings are `make up`'s (config.settings.local) with the product's defaults (request log and
exposures on; the log goes to /dev/null) and prometheus-client in multiprocess mode, as under
gunicorn. `--profile NAME` prints cProfile's top functions for one scenario instead.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_DIR = REPO_ROOT / "app"
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 pizza-bench"
FIELDS = {"size": "medium", "quantity": "1", "customer_name": "Bench Customer", "phone": "+45 12 34 56 78"}
FIELDS |= {"address": "1 Benchmark Street, Loopback", "comments": ""}
STAFF_ORDERS = 1000


def configure(db_name: str, app_dir: Path) -> None:
    """Settings as `make up` gives variant A, on our own database; stdout (the request log) to /dev/null."""
    from stack.postgres import MACHINE_SERVER, database_url_for

    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=database_url_for(os.environ.get("TEST_DATABASE_URL", MACHINE_SERVER), db_name),
        VARIANT="a",
        DEPLOY_ENV="dev",
        VARIANTS_ROOT=str(REPO_ROOT),
        ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
        PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="pizza-cpu-"),
        SECRET_KEY="bench-cpu-" + uuid.uuid4().hex * 2,
        STATIC_ROOT=os.path.join(tempfile.gettempdir(), f"pizza-cpu-static-{os.getuid()}"),
    )
    for name in ("REQUEST_LOG", "RECORD_EXPOSURES", "THEME"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(app_dir))
    # The request log's handler writes to stderr: to /dev/null, as gunicorn's would to a pipe. Results go to stdout.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)


def floor_post_cpu(args) -> tuple[float, float]:
    """The floor's order POST (stack/bench/floor/, post.lua's body for it): ms CPU in all and in its view,
    medians over rounds."""
    from stack.postgres import MACHINE_SERVER, drop_database

    url = drop_database(os.environ.get("TEST_DATABASE_URL", MACHINE_SERVER), args.db_name + "_floor", create_again=True)
    os.environ.update(DJANGO_SETTINGS_MODULE="stack.bench.floor.settings", DATABASE_URL=url)
    sys.path.insert(0, str(REPO_ROOT))
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    import django
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    driver = Driver(get_wsgi_application())
    driver.environ_extra = {"SERVER_PORT": "8080", "HTTP_HOST": "127.0.0.1:8080"}
    in_view = time_view("/order/")
    rounds, views = [], []
    for i in range(args.rounds + 1):
        driver.cpu = in_view["view"] = 0.0
        for _ in range(20 if i == 0 else args.n):  # round 0: warm-up
            driver.cookies["csrftoken"] = secret = uuid.uuid4().hex
            body = urlencode({"csrfmiddlewaretoken": secret, "pizza": "Margherita", "customer_name": "Bench Customer"})
            expect(driver.call("POST", "/order/", body)[0], "302", "the floor's POST")
        if i:
            rounds.append(driver.cpu * 1000 / args.n)
            views.append(in_view["view"] * 1000 / args.n)
    return statistics.median(rounds), statistics.median(views)


def time_view(path: str) -> dict[str, float]:
    """Wrap the view that answers `path` so the CPU spent inside it is summed apart, in the returned
    {"view": seconds}: what a POST costs in its view (form, statement, redirect) against what the
    handler and the middleware around it cost."""
    from django.urls import URLResolver, get_resolver

    view = get_resolver().resolve(path).func
    spent = {"view": 0.0}

    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return view(*args, **kwargs)
        finally:
            spent["view"] += time.process_time() - started

    def wrap(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                wrap(pattern.url_patterns)
            elif pattern.callback is view:
                pattern.callback = timed

    wrap(get_resolver().url_patterns)
    return spent


def prepare(db_name: str) -> None:
    """A fresh database, migrated, with a kitchen user and STAFF_ORDERS orders."""
    import django
    from django.core.management import call_command

    from stack.bench.measurements import SEED_SQL
    from stack.postgres import MACHINE_SERVER, drop_database

    drop_database(os.environ.get("TEST_DATABASE_URL", MACHINE_SERVER), db_name, create_again=True)
    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(SEED_SQL, {"first": 1, "last": STAFF_ORDERS})


class Driver:
    """Calls the WSGI app the way gunicorn does and keeps a browser's cookies; times only the app."""

    def __init__(self, app):
        self.app = app
        self.cookies: dict[str, str] = {}
        self.cpu = 0.0
        self.steps: dict[str, float] = {}  # CPU by step, for the flow's breakdown
        self.beacon = ""
        self.environ_extra: dict[str, str] = {}

    def call(self, method: str, path: str, body: str = "", step: str = "") -> tuple[str, dict, bytes]:
        path, _, query = path.partition("?")
        data = body.encode()
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8001",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8001",
            "HTTP_USER_AGENT": BROWSER_UA,
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "wsgi.input": io.BytesIO(data),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
            **self.environ_extra,
        }
        if body:
            environ["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
            environ["CONTENT_LENGTH"] = str(len(data))
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers

        started = time.process_time()
        result = self.app(environ, start_response)
        content = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        spent = time.process_time() - started
        self.cpu += spent
        self.steps[step] = self.steps.get(step, 0.0) + spent
        headers = {}
        for name, value in answer["headers"]:
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";")[0]
            headers[name.lower()] = value
        return answer["status"], headers, content


def expect(status: str, wanted: str, what: str) -> None:
    if not status.startswith(wanted):
        print(f"{what}: {status}, expected {wanted}", flush=True)
        raise SystemExit(1)


def post_bodies(n: int, pizza: int) -> list[tuple[str, str]]:
    """(csrf secret, body) for n POSTs as post.lua sends them: no shown_by, a fresh form token each."""
    out = []
    for _ in range(n):
        secret = uuid.uuid4().hex
        body = urlencode({"csrfmiddlewaretoken": secret, "form_token": str(uuid.uuid4()), "pizza": pizza, **FIELDS})
        out.append((secret, body))
    return out


def run_post(driver: Driver, n: int, pizza: int) -> None:
    for secret, body in post_bodies(n, pizza):
        driver.cookies["csrftoken"] = secret
        status, _, _ = driver.call("POST", "/order/", body)
        expect(status, "303", "POST /order/")


FORM = {name: re.compile(rf'name="{name}" value="([^"]+)"'.encode()) for name in ("csrfmiddlewaretoken", "form_token", "shown_by")}
SEEN = re.compile(rb'data-seen="(/seen/[^"]+)"')


def found(pattern: re.Pattern[bytes], page: bytes) -> str:
    match = pattern.search(page)
    if match is None:
        print(f"the form page has no {pattern.pattern!r}", flush=True)
        raise SystemExit(1)
    return match.group(1).decode()


def run_flow(driver: Driver, n: int, pizza: int) -> None:
    for _ in range(n):
        status, _, page = driver.call("GET", "/order/", step="form GET")
        expect(status, "200", "GET /order/")
        hidden = {name: found(pattern, page) for name, pattern in FORM.items()}
        seen = SEEN.search(page)
        if seen:
            expect(driver.call("GET", seen.group(1).decode(), step="beacon")[0], "204", "beacon")
        status, headers, _ = driver.call("POST", "/order/", urlencode({**hidden, "pizza": pizza, **FIELDS}), step="POST")
        expect(status, "303", "POST /order/ in the flow")
        expect(driver.call("GET", headers["location"], step="confirmation")[0], "200", "confirmation")


def run_staff(driver: Driver, n: int, pizza: int) -> None:
    for _ in range(n):
        expect(driver.call("GET", "/staff/orders/")[0], "200", "staff page")


def run_beacon(driver: Driver, n: int, pizza: int) -> None:
    """The cheapest page there is (the exposure beacon, already recorded): what every request pays."""
    if not driver.beacon:
        driver.beacon = found(SEEN, driver.call("GET", "/order/")[2])
    for _ in range(n):
        expect(driver.call("GET", driver.beacon)[0], "204", "beacon")


SCENARIOS = {"post": run_post, "flow": run_flow, "staff": run_staff, "beacon": run_beacon}


def drivers(app) -> dict[str, Driver]:
    """One driver per scenario; staff's carries a kitchen user's session."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from ops.roles import assign_role

    user, _ = get_user_model().objects.get_or_create(username="bench-kitchen")
    assign_role(user, "kitchen")
    client = Client()
    client.force_login(user)
    out = {name: Driver(app) for name in SCENARIOS}
    out["staff"].cookies.update({k: v.value for k, v in client.cookies.items()})
    return out


def measure(args, app, pizza: int) -> dict[str, list[float]]:
    runners = drivers(app)
    for name in args.only or SCENARIOS:  # warm-up: first renders, first connections
        SCENARIOS[name](runners[name], 20, pizza)
    results: dict[str, list[float]] = {name: [] for name in SCENARIOS}
    in_view = time_view("/order/")
    for _ in range(args.rounds):
        for name in args.only or SCENARIOS:
            runner = runners[name]
            runner.cpu, runner.steps, in_view["view"] = 0.0, {}, 0.0
            SCENARIOS[name](runner, args.n, pizza)
            results[name].append(runner.cpu * 1000 / args.n)
            if name == "post":
                results.setdefault("post, in the view", []).append(in_view["view"] * 1000 / args.n)
            if name == "flow":
                for step, spent in runner.steps.items():
                    results.setdefault(f"  {step}", []).append(spent * 1000 / args.n)
    return {k: v for k, v in results.items() if v}


def profile(args, app, pizza: int) -> None:
    import cProfile
    import pstats

    runner = drivers(app)[args.profile]
    SCENARIOS[args.profile](runner, 20, pizza)
    profiler = cProfile.Profile(time.process_time)  # CPU, not the wait on PostgreSQL
    profiler.enable()
    SCENARIOS[args.profile](runner, args.n, pizza)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats(args.sort)
    if args.callees:
        stats.print_callees(args.callees)
    else:
        stats.print_stats(args.top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-name", default="pizza_bench_cpu")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=150, help="requests (or flows) per scenario per round")
    parser.add_argument("--only", nargs="*", choices=list(SCENARIOS))
    parser.add_argument("--profile", choices=list(SCENARIOS))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--callees", help="with --profile: what the functions matching this pattern call")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR, help="another checkout's app/ (a before/after comparison)")
    parser.add_argument("--floor", action="store_true", help="the floor's order POST instead (stack/bench/floor/)")
    parser.add_argument(
        "--floor-middleware",
        action="store_true",
        help="the product's order POST behind the floor's three middleware only: a bound on what its own middleware costs",
    )
    args = parser.parse_args(argv)
    if args.floor:
        total, view = floor_post_cpu(args)
        print(f"floor POST {total:6.3f} ms CPU per request, {view:.3f} ms of it in the view (median of {args.rounds} rounds, n={args.n})")
        return 0
    configure(args.db_name, args.app_dir)
    prepare(args.db_name)
    if args.floor_middleware:
        from django.conf import settings

        from stack.bench.floor.settings import MIDDLEWARE

        settings.MIDDLEWARE = MIDDLEWARE
        args.only = ["post"]  # the other scenarios need the sessions, the user and the visitor cookie
    from django.core.wsgi import get_wsgi_application

    from orders.models import Pizza

    app = get_wsgi_application()
    pizza = Pizza.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)[0]
    if args.profile:
        profile(args, app, pizza)
        return 0
    for name, values in measure(args, app, pizza).items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        unit = "flow (4 requests)" if name == "flow" else "request"
        print(f"{name:16s} {statistics.median(values):6.3f} ms CPU per {unit} (rounds {spread}, n={args.n})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
