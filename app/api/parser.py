"""Reading a request body: size, encoding and nesting are checked before json.loads sees it."""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from ninja.parser import Parser

from .problems import Problem

# A string literal in JSON text (escapes included); removed before counting brackets.
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def too_large() -> Problem:
    limit = settings.API_MAX_BODY_BYTES
    return Problem(413, "body-too-large", "Request body too large", f"The body must be at most {limit} bytes.")


def malformed(detail: str) -> Problem:
    return Problem(400, "malformed-body", "Malformed request body", detail)


def nesting_depth(text: str) -> int:
    depth = deepest = 0
    for ch in JSON_STRING.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def refuse_constant(name: str):
    """NaN and Infinity are not JSON, though Python's json module accepts them."""
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


class StrictJSONParser(Parser):
    """JSON bodies only: at most API_MAX_BODY_BYTES, UTF-8, nested at most API_MAX_JSON_DEPTH deep
    (json.loads recurses per level, so a deep body would otherwise end in RecursionError)."""

    def parse_body(self, request):
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            raise malformed("Content-Length must be a number.")
        if int(declared) > settings.API_MAX_BODY_BYTES:
            raise too_large()
        try:
            body = request.body
        except RequestDataTooBig:
            raise too_large() from None
        if len(body) > settings.API_MAX_BODY_BYTES:
            raise too_large()
        content_type = request.content_type or ""
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise Problem(415, "unsupported-media-type", "Unsupported media type", "Send the body as application/json.")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed("The body is not valid UTF-8.") from None
        if nesting_depth(text) > settings.API_MAX_JSON_DEPTH:
            raise malformed(f"The body is nested more than {settings.API_MAX_JSON_DEPTH} levels deep.")
        try:
            return json.loads(text, parse_constant=refuse_constant)
        except json.JSONDecodeError as exc:
            raise malformed(f"The body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).") from None
