"""Under /api/ every error is a problem document, whoever produced it (the router's 404, a 405, the
database-outage 503, Django's last-resort 500)."""

from __future__ import annotations

import json

from .problems import PROBLEM_JSON, Problem

API_PREFIX = "/api/"
# Headers of the original response that still mean something on the problem document.
KEPT_HEADERS = ("Allow", "Retry-After", "X-Request-ID", "X-Pizza-Variant", "X-Pizza-Theme")


class ProblemMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (request.path.startswith(API_PREFIX) and response.status_code >= 400
                and response.get("Content-Type", "").split(";")[0] != PROBLEM_JSON):
            return self.as_problem(response)
        return response

    @staticmethod
    def as_problem(response):
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
