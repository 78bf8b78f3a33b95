"""Under /api/ every error is a problem document, whoever produced it (the router's 404, a 405, the
database-outage 503, Django's last-resort 500)."""

from __future__ import annotations

import json

from ops import metrics

from .parser import too_large
from .problems import PROBLEM_JSON, Problem

API_PREFIX = "/api/"
# The route whose refusals count as refused orders (pizza_order_refusals_total, channel "api").
ORDER_ROUTE = "api-v1:orders"
# Headers of the original response that still mean something on the problem document.
KEPT_HEADERS = ("Allow", "Retry-After", "X-Request-ID", "X-Pizza-Variant", "X-Pizza-Theme")


class ProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith(API_PREFIX)
            and response.status_code >= 400
            and response.get("Content-Type", "").split(";")[0] != PROBLEM_JSON
        ):
            response = self.as_problem(response)
        if request.method == "POST" and response.status_code >= 400:
            count_refusal(request, response)
        return response

    @staticmethod
    def as_problem(response):
        if response.status_code == 413:  # refused before the API saw it (the form-body limit): the API's own 413
            return too_large().response()
        detail = ""
        if response.get("Content-Type", "").startswith("application/json"):
            try:  # keep a JSON error's message (the outage middleware says when to retry)
                body = json.loads(response.content)
                detail = str(body.get("error") or body.get("detail") or "") if isinstance(body, dict) else ""
            except ValueError:
                pass
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        new = Problem(response.status_code, detail=detail, headers=headers).response()
        for cookie in response.cookies.values():
            new.cookies[cookie.key] = cookie
        return new


def count_refusal(request, response) -> None:
    """One refused order POST by reason, like the web form's: the body's fields (422), the body
    itself (400, 413, 415), a closed shop (503 shop-closed). 409 and 429 ask for a later retry;
    an outage's 503 is not a refusal of this order."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name != ORDER_ROUTE:
        return
    status = response.status_code
    if status == 422:
        reason = "validation"
    elif status in (400, 413, 415):
        reason = "bad_request"
    elif status == 503 and b"shop-closed" in response.content:
        reason = "closed"
    else:
        return
    metrics.order_refused(reason, channel="api")
