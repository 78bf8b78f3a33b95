"""Prometheus metrics: RED per route, database time and errors, and the shop's business numbers.

Why the official client's multiprocess mode rather than django-prometheus: every series here must
carry the process's variant and theme (A, B and C are compared side by side), routes must be URL
names, and the business counters are ours anyway; django-prometheus would add a second naming
scheme (django_http_*) without those labels and still need the same multiprocess set-up underneath.

Under gunicorn each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (set and
emptied by gunicorn.conf.py before the app loads; a dead worker is marked in its child_exit hook)
and /metrics merges them, so a scrape sees the whole pod whichever worker answers it. Without that
variable (tests, manage.py) the client's default in-process registry is used.

/metrics is answered only on the metrics listener (METRICS_PORT, a second address gunicorn binds),
decided by the socket the request really arrived on, never by a Host header. The public port has no
/metrics route at all, and the load balancers deny the path too.
"""

from __future__ import annotations

import os
import threading
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

METRICS_PATH = "/metrics"
PROBE_PATHS = ("/healthz", "/readyz")  # probes have their own series (readiness), not RED
BASE = ("variant", "theme")

# Bounded label values: the few the code can produce, pre-created at zero so "none yet" is a 0, not a gap.
CHANNELS = ("web", "api")
REFUSAL_REASONS = ("validation", "closed", "csrf", "bad_request")
READINESS_OUTCOMES = ("ready", "database", "migrations")
ORDER_ROUTES = ("orders:order_create", "api-v1:orders")

REQUESTS = Counter(
    "pizza_http_requests", "HTTP requests answered, by URL name and status class.", [*BASE, "route", "method", "status_class"]
)
LATENCY = Histogram(
    "pizza_http_request_duration_seconds",
    "Time to answer a request, by URL name.",
    [*BASE, "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DB_QUERY = Histogram(
    "pizza_db_query_duration_seconds",
    "Time of each SQL statement sent to the database.",
    [*BASE],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 15.0),
)
DB_ERRORS = Counter("pizza_db_errors", "Database errors, by where they happened and the driver's error class.", [*BASE, "stage", "error"])
DB_CONNECTIONS = Gauge(
    "pizza_db_connections_open", "Database connections this pod holds open (all workers).", [*BASE], multiprocess_mode="livesum"
)
ORDERS = Counter("pizza_orders_placed", "Orders created (a retry returning an existing order is not counted).", [*BASE, "channel"])
REFUSALS = Counter("pizza_order_refusals", "Order POSTs refused, by reason.", [*BASE, "channel", "reason"])
EXPOSURES = Counter("pizza_exposures_recorded", "Exposures written to the experiment log (one per visitor, day and variant).", [*BASE])
STATUS_CHANGES = Counter(
    "pizza_order_status_changes", "Staff status changes, by transition and outcome.", [*BASE, "from_status", "to_status", "outcome"]
)
READINESS = Counter("pizza_readiness_checks", "/readyz answers, by outcome (what failed, or ready).", [*BASE, "outcome"])
BUILD = Gauge("pizza_build_info", "1 per running pod: its variant, theme and version.", [*BASE, "version"], multiprocess_mode="livemax")
WEIGHT = Gauge(
    "pizza_experiment_weight", "This variant's configured share of visitors (variants.yaml weight).", [*BASE], multiprocess_mode="livemax"
)


def base_labels() -> dict:
    return {"variant": settings.VARIANT, "theme": settings.THEME}


# The labelled series each (metric, label values) names, kept: prometheus-client's labels() checks
# and builds the label tuple under a lock on every call, for series that never change once made.
_children: dict[tuple, object] = {}


def child(key: tuple):
    """`metric.labels(variant, theme, *rest)` for key = (metric, *rest), the series found once a process."""
    full = (*key, settings.VARIANT, settings.THEME)  # a changed setting (tests) names another series
    try:
        return _children[full]
    except KeyError:
        metric, *rest = key
        series = _children[full] = metric.labels(settings.VARIANT, settings.THEME, *rest)
        return series


def initialise() -> None:
    """Create every bounded series at zero and the per-process gauges (called once at start-up)."""
    labels = base_labels()
    BUILD.labels(**labels, version=settings.APP_VERSION).set(1)
    WEIGHT.labels(**labels).set(settings.VARIANT_SET.variants[settings.VARIANT].weight)
    DB_CONNECTIONS.labels(**labels).set(0)
    for channel in CHANNELS:
        ORDERS.labels(**labels, channel=channel)
        for reason in REFUSAL_REASONS:
            REFUSALS.labels(**labels, channel=channel, reason=reason)
    for outcome in READINESS_OUTCOMES:
        READINESS.labels(**labels, outcome=outcome)
    EXPOSURES.labels(**labels)


# --- Business hooks (one call each from the code that does the thing) ----------------------------


def order_placed(channel: str) -> None:
    ORDERS.labels(**base_labels(), channel=channel).inc()


def order_refused(reason: str, request=None, channel: str = "web") -> None:
    """Count a refused order POST; a CSRF failure elsewhere (login, staff pages) is not an order."""
    if request is not None:
        match = getattr(request, "resolver_match", None)
        if request.method != "POST" or match is None or match.view_name not in ORDER_ROUTES:
            return
    REFUSALS.labels(**base_labels(), channel=channel, reason=reason).inc()


def exposure_recorded() -> None:
    EXPOSURES.labels(**base_labels()).inc()


def status_change(expected: str, new: str, outcome: str) -> None:
    STATUS_CHANGES.labels(**base_labels(), from_status=expected, to_status=new, outcome=outcome).inc()


def readiness_checked(outcome: str) -> None:
    READINESS.labels(**base_labels(), outcome=outcome).inc()


# --- Database -------------------------------------------------------------------------------------


def observe_query(execute, sql, params, many, context):
    """connection.execute_wrappers entry: time every statement, count its errors."""
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    except DatabaseError as exc:
        database_error(exc, stage="query")
        raise
    finally:
        child((DB_QUERY,)).observe(time.perf_counter() - started)


def database_error(exc: BaseException, stage: str = "connect") -> None:
    """Count a database error once (a failed query is seen by the wrapper and then by the middleware)."""
    if getattr(exc, "_pizza_counted", False):
        return
    try:
        exc._pizza_counted = True  # type: ignore[attr-defined]  # a mark on this one exception object
    except AttributeError:
        pass
    DB_ERRORS.labels(**base_labels(), stage=stage, error=type(exc).__name__).inc()


def on_connection_created(sender, connection, **kwargs) -> None:
    if observe_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(observe_query)


_open_by_thread: dict[int, bool] = {}
_open_lock = threading.Lock()


def on_request_finished(sender, **kwargs) -> None:
    """After Django closed what it closes at the end of a request: does this thread keep a connection?"""
    from django.db import connections

    held = any(conn.connection is not None for conn in connections.all(initialized_only=True))
    ident = threading.get_ident()
    with _open_lock:
        if _open_by_thread.get(ident) is held:
            return  # as after this thread's last request: the gauge already says so
        _open_by_thread[ident] = held
        count = sum(_open_by_thread.values())
    child((DB_CONNECTIONS,)).set(count)


# --- HTTP -----------------------------------------------------------------------------------------


def on_metrics_listener(request) -> bool:
    """True when the request arrived on the metrics port (the local address of gunicorn's socket)."""
    port = getattr(settings, "METRICS_PORT", 0)
    sock = request.META.get("gunicorn.socket")
    if not port or sock is None:
        return False
    try:
        return sock.getsockname()[1] == port
    except (OSError, IndexError, TypeError):
        return False


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def status_class(code: int) -> str:
    return f"{code // 100}xx"


class MetricsMiddleware:
    """Serves /metrics on the metrics listener only (and nothing else there); times every other request.

    Sits first, so its clock includes every other middleware. Probes are left out of RED: a
    database outage shows as readiness and database errors, not as probe 503s diluting the ratio.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if on_metrics_listener(request):
            if request.path_info == METRICS_PATH and request.method == "GET":
                return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
            return HttpResponseNotFound("only /metrics is served on this port\n", content_type="text/plain")
        if request.path_info in PROBE_PATHS:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self.record(request, response.status_code, time.perf_counter() - started)
        return response

    @staticmethod
    def record(request, code: int, seconds: float) -> None:
        match = getattr(request, "resolver_match", None)
        if match is not None:
            route = match.view_name
        elif request.path_info.startswith(settings.STATIC_URL):
            route = "static"  # WhiteNoise answers before URL resolution
        else:
            route = "unmatched"  # never the raw path: that is unbounded and may hold user data
        method = request.method if request.method in ("GET", "POST", "HEAD") else "other"
        child((REQUESTS, route, method, status_class(code))).inc()
        child((LATENCY, route, method)).observe(seconds)
