"""The pages Django shows when something is refused or missing (wired in settings and config.urls)."""

from __future__ import annotations

import sys

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from ops import metrics


def csrf_failure(request, reason=""):
    """A clear page instead of Django's technical one; nothing was stored."""
    metrics.order_refused("csrf", request)
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


def not_found(request, exception=None):
    # Under /api/ the problem middleware turns any 404 into a problem document.
    return render(request, "404.html", status=404)


def server_error(request):
    """The last resort: a plain page that needs neither the database nor a request context.

    Django calls this while handling the exception, so an outage raised outside a view (a middleware
    saving the session after it) still gets the outage's 503 + Retry-After instead of a 500.
    """
    from ops.middleware import outage_response

    exception = sys.exc_info()[1]
    outage = outage_response(request, exception) if exception is not None else None
    return outage or HttpResponse(render_to_string("500.html"), status=500)


def bad_request(request, exception=None):
    """A request Django refused while reading it (too large, too many fields): a themed page, not its bare text."""
    from django.core.exceptions import RequestDataTooBig

    from ops.middleware import refusal

    if isinstance(exception, RequestDataTooBig):
        return refusal(request, 413, "too_large")
    return refusal(request, 400, "bad_request")
