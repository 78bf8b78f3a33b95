"""Request plumbing shared by every variant: probes, request ids and logs, database outages."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.http import JsonResponse
from django.http import HttpResponse
from django.template.loader import render_to_string

from . import metrics, readiness
from .logging import request_id_var

log = logging.getLogger("pizza.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
RETRY_AFTER_SECONDS = "5"


class HealthMiddleware:
    """/healthz and /readyz, answered before host checks, sessions or redirects.

    The kubelet and the load balancer probe pods by IP over plain HTTP, so these two paths must not
    depend on ALLOWED_HOSTS or the HTTPS redirect; they reveal nothing but check results.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path == "/healthz":
            return self._stamp(JsonResponse({"status": "ok", "variant": settings.VARIANT, "theme": settings.THEME, "version": settings.APP_VERSION}))
        if path == "/readyz":
            ready, checks = readiness.check()
            body = {"status": "ready" if ready else "not ready", "variant": settings.VARIANT, "version": settings.APP_VERSION, "checks": checks}
            response = JsonResponse(body, status=200 if ready else 503)
            if not ready:
                response["Retry-After"] = RETRY_AFTER_SECONDS
            return self._stamp(response)
        return self.get_response(request)

    @staticmethod
    def _stamp(response):
        response["Cache-Control"] = "no-store"
        response["X-Pizza-Variant"] = settings.VARIANT
        response["X-Pizza-Theme"] = settings.THEME
        return response


class RequestLogMiddleware:
    """Gives each request an id (kept from X-Request-ID when sane), returns it, logs one JSON line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self._handle(request, request_id, started)
        finally:
            request_id_var.reset(token)
        return response

    def _handle(self, request, request_id, started):
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        response["X-Pizza-Variant"] = settings.VARIANT
        response["X-Pizza-Theme"] = settings.THEME
        if settings.REQUEST_LOG:
            log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "variant": settings.VARIANT,
                },
            )
        return response


def schema_behind() -> bool:
    """True when the database lacks a migration this code knows (checked afresh, never raising)."""
    try:
        return bool(readiness.missing_migrations())
    except Exception:  # the check itself failing means the database is not serving this code
        return True


class DatabaseUnavailableMiddleware:
    """A database that is down, failing over, or behind this code's schema gives 503 + Retry-After.

    Never a 500 or a traceback: the load balancer and the client retry, and an order whose POST
    failed here was not stored (its transaction rolled back), so the retry with the same one-time
    token creates it exactly once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        # Connection-level errors are outages. A ProgrammingError is one only when this code runs on a
        # schema that is behind it (a rollout's window); any other is a bug and stays a 500.
        # Data errors (IntegrityError, DataError) are bugs too.
        if isinstance(exception, ProgrammingError):
            readiness.reset()
            if not schema_behind():
                return None
        elif not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        metrics.database_error(exception)
        log.warning("database unavailable: %s", type(exception).__name__, extra={"error": str(exception).strip()[:300]})
        # A broken connection is dropped by Django at the end of this request (request_finished),
        # and CONN_HEALTH_CHECKS replaces it before the next one.
        if request.headers.get("Accept", "").startswith("application/json"):
            response = JsonResponse({"error": "service temporarily unavailable, retry shortly"}, status=503)
        else:
            html = render_to_string("503.html", {"variant": settings.VARIANT, "theme": settings.THEME})
            response = HttpResponse(html, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
