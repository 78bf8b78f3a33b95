"""Request plumbing shared by every variant: probes, request ids and logs, database outages."""

from __future__ import annotations

import logging
import re
import time
import uuid

from csp import middleware as csp_middleware
from csp.constants import HEADER
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
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
            return self._stamp(
                JsonResponse({"status": "ok", "variant": settings.VARIANT, "theme": settings.THEME, "version": settings.APP_VERSION})
            )
        if path == "/readyz":
            ready, checks = readiness.check()
            body = {
                "status": "ready" if ready else "not ready",
                "variant": settings.VARIANT,
                "version": settings.APP_VERSION,
                "checks": checks,
            }
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
        return outage_response(request, exception)


def outage_response(request, exception: BaseException) -> HttpResponse | None:
    """503 + Retry-After when `exception` means the database is unavailable to this code; else None.

    Used for a view's exception (DatabaseUnavailableMiddleware) and, through the 500 handler, for one
    raised by a middleware (a session saved after the view, a lazy user): both are an outage, not a bug.
    """
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


class BadInputMiddleware:
    """Refuses requests the app will not parse, before anything reads them, and says why.

    - a NUL character in the path or the query string: 400 (PostgreSQL cannot even compare one);

    - larger than DATA_UPLOAD_MAX_MEMORY_SIZE: 413 naming the limit (Django's own check answers a bare
      400); the body is drained first (up to config.limits.MAX_DRAIN_BYTES) so the client is not reset;
    - a form body (application/x-www-form-urlencoded) that is not valid UTF-8: 400, instead of being
      stored with replacement characters.
    Nothing has been parsed or stored when either answers.
    """

    CHUNK = 64 * 1024

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "%00" in query or "\x00" in query:
            log.warning("NUL character in the URL")
            return refusal(request, 400, "nul")
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return self.get_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            drained = self._drain(request, length)
            log.warning("request body too large", extra={"content_length": length, "limit": limit})
            response = refusal(request, 413, "too_large")
            if not drained:
                response["Connection"] = "close"
            return response
        if not form_body_is_utf8(request.content_type, request.body if request.content_type in FORM_TYPES else b""):
            log.warning("form body is not UTF-8", extra={"content_length": length})
            return refusal(request, 400, "encoding")
        return self.get_response(request)

    def _drain(self, request, length: int) -> bool:
        from config.limits import MAX_DRAIN_BYTES

        if length > MAX_DRAIN_BYTES:
            return False
        try:
            while request.read(self.CHUNK):
                pass
        except OSError:  # the client went away: nothing to answer anyway
            return False
        return True


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def form_body_is_utf8(content_type: str, body: bytes) -> bool:
    """True when a form body decodes as UTF-8 (Django would silently replace what doesn't).

    urlencoded: every name and value once percent-decoded. multipart: the whole body, since no page
    of this app takes a file upload (a binary part would be refused here too).
    """
    from urllib.parse import unquote_to_bytes

    try:
        if content_type == "multipart/form-data":
            body.decode("utf-8")
        else:
            for pair in body.split(b"&"):
                unquote_to_bytes(pair.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


REFUSALS = {
    "too_large": "The form you sent is larger than we accept ({limit}). Please shorten it and send it again; nothing was stored.",
    "encoding": "The form you sent was not valid UTF-8 text, so we could not read it. Nothing was stored; please send it again from the order page.",
    "bad_request": "We could not read that request. Nothing was stored.",
    "nul": "That address contains a NUL character, which no page of ours uses.",
}


def refusal(request, status: int, reason: str):
    """The refusal as JSON for the API, or as the themed page (400.html or 413.html) for everyone else."""
    from django.shortcuts import render

    from config.limits import human

    message = REFUSALS[reason].format(limit=human(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if request.path_info.startswith("/api/"):
        return JsonResponse({"error": message, "fields": {}}, status=status)
    template = "413.html" if status == 413 else "400.html"
    return render(request, template, {"message": message, "limit": human(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, status=status)


# Browser features no page of the shop uses: a script injected into a page could not use them either.
PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer, and HEAD answered like GET without the body (monitors use HEAD)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if request.method == "HEAD" and not response.streaming:
            length = len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        return response


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, with the policy built once instead of on every response.

    The policy comes from settings only (no view here changes it, and no page uses a nonce), so the
    header is the same every time; django-csp rebuilds it per response (4% of the order flow's CPU,
    docs/bench.md). A response that does change it (@csp_update, @csp_exempt, a nonce read) takes
    django-csp's own path, unchanged.
    """

    PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
    _built: dict[str, str] = {}

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, name) for name in self.PER_RESPONSE):
            return super().process_response(request, response)
        if not self._built:
            if settings.DEBUG or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
                return super().process_response(request, response)  # not this shop's configuration: no shortcut
            self._built["policy"] = build_policy()
        excluded = (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
        if self._built["policy"] and HEADER not in response and not request.path_info.startswith(tuple(excluded)):
            response[HEADER] = self._built["policy"]
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response


@receiver(setting_changed)
def forget_csp_policy(setting, **kwargs) -> None:
    if setting.startswith(("CONTENT_SECURITY_POLICY", "DEBUG")):
        CSPMiddleware._built.clear()
