"""RFC 9457 problem documents: every API error is one, never an HTML page.

`type` is a URN naming the kind of problem (listed in docs/api/README.md); clients branch on it and
on `status`, never on `title` or `detail`, which are for people.
"""

from __future__ import annotations

import json

from django.http import HttpResponse

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:pizza:problem:"

# Titles of the plain HTTP problems (type "about:blank": the status code says it all).
TITLES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Problem(Exception):
    """Raised anywhere under /api/ to answer with a problem document."""

    def __init__(
        self,
        status: int,
        kind: str | None = None,
        title: str | None = None,
        detail: str = "",
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or title or str(status))
        self.status = status
        self.type = f"{TYPE_PREFIX}{kind}" if kind else "about:blank"
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def document(self) -> dict:
        doc = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if self.errors is not None:
            doc["errors"] = self.errors
        return doc

    def response(self) -> HttpResponse:
        response = HttpResponse(json.dumps(self.document()), status=self.status, content_type=PROBLEM_JSON)
        for name, value in self.headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return response


def field_error(field: str, message: str, code: str) -> dict:
    """One entry of a problem's `errors`: a JSON Pointer into the request body, a message, a code."""
    return {"pointer": f"/{field}" if field else "", "detail": message, "code": code}
