"""The mobile API, /api/v1: the menu, the shop's open state, placing an order, reading an order.

Compatibility policy (also in README): within v1 changes are additive only (new operations, new
optional request fields, new response fields, new problem types); clients must ignore response
fields they don't know. Anything else is /api/v2.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.urls import reverse
from ninja import Header, NinjaAPI
from ninja.errors import HttpError, ValidationError

from orders.forms import OrderForm
from orders.menu import active_pizzas
from orders.models import Order, Size, Status
from orders.services import PIZZA_GONE, PizzaUnavailable, order_matches, orders_open, place_order, unit_price, visitor_id

from . import idempotency, ratelimit
from .parser import StrictJSONParser, too_large
from .problems import PROBLEM_JSON, Problem, field_error
from .schemas import Menu, OrderIn, OrderOut, ProblemDoc, Shop

log = logging.getLogger(__name__)

CURRENCY = "EUR"
NAMESPACE = "api-v1"
# Every status a client must be ready for, per operation (the OpenAPI document lists them all).
# 503 is the database-outage answer every path can give (Retry-After says when to try again).
READ_ERRORS = frozenset({404, 503})
POST_ERRORS = frozenset({400, 409, 413, 415, 422, 429, 503})
# Response headers documented per (operation id, status).
HEADERS = {
    ("menu", "200"): {"ETag": "Version of the menu: send it back in If-None-Match", "Cache-Control": "no-cache: revalidate"},
    ("menu", "304"): {"ETag": "Version of the menu, unchanged"},
    ("place_order", "201"): {"Location": "Where to read the order", f"{idempotency.REPLAY_HEADER}": '"true" on a replayed response'},
    ("place_order", "409"): {"Retry-After": "Seconds to wait before retrying with the same key"},
    ("place_order", "429"): {"Retry-After": "Seconds until the client may order again"},
    ("place_order", "503"): {"Retry-After": "Seconds to wait before retrying"},
}


class PizzaAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Errors are application/problem+json, and the headers a client relies on are listed."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for code, response in operation["responses"].items():
                    content = response.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM_JSON: content.pop("application/json")}
                    if (operation["operationId"], code) == ("place_order", "201"):
                        # A client (and Schemathesis's stateful phase) follows the token to the order.
                        response["links"] = {"ReadOrder": {"operationId": "order", "parameters": {"token": "$response.body#/token"}}}
                    headers = HEADERS.get((operation["operationId"], code))
                    if headers:
                        response["headers"] = {name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()}
        return schema


def operation(operation_id: str, summary: str, description: str | None = None, url_name: str | None = None) -> dict:
    """An endpoint's names and docs for @api.get/@api.post: its URL name is its operation id unless given."""
    return {"operation_id": operation_id, "url_name": url_name or operation_id, "summary": summary, "description": description}


api = PizzaAPI(
    title="Pizza A/B/C mobile API",
    version="1.0.0",
    description=(
        "Order pizza from a phone. Errors are RFC 9457 problem documents (application/problem+json). "
        "POST /orders requires an Idempotency-Key (a UUID): retry with the same key and body and you get the "
        "original response again, marked `Idempotent-Replayed: true`. Within v1 changes are additive only."
    ),
    urls_namespace=NAMESPACE,
    parser=StrictJSONParser(),
)


# --- Errors: every one a problem document --------------------------------------------------


@api.exception_handler(Problem)
def on_problem(request, exc: Problem):
    return exc.response()


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, Problem):  # raised by the body parser, wrapped by ninja
        return exc.__cause__.response()
    return Problem(exc.status_code, detail=exc.message).response()


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return too_large().response()


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return Problem(404, detail="No such resource.").response()


def pointer(loc) -> str:
    """('body', 'payload', 'quantity') -> '/quantity'."""
    parts = [str(p) for p in loc[2:]] if loc and loc[0] == "body" else [str(p) for p in loc[1:]]
    return "/" + "/".join(parts) if parts else ""


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    if any(error.get("loc", ("",))[0] == "header" for error in exc.errors):
        if request.headers.get(idempotency.HEADER):
            return idempotency.malformed_key().response()
        return idempotency.missing_key().response()
    if any(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return Problem(404, detail="No such resource.").response()
    errors = [
        {"pointer": pointer(e.get("loc", ())), "detail": e.get("msg", "invalid"), "code": e.get("type", "invalid")} for e in exc.errors
    ]
    return Problem(422, "validation", "Invalid request body", "Some fields need attention: see errors.", errors).response()


# --- Menu and shop --------------------------------------------------------------------------


def menu_body() -> dict:
    pizzas = [
        {
            "id": p.pk,
            "name": p.name,
            "description": p.description,
            "price": str(p.price),
            "sizes": [{"size": size, "price": str(unit_price(p, size))} for size in Size.values],
        }
        for p in active_pizzas()
    ]
    return {"pizzas": pizzas, "currency": CURRENCY}


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored."""
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


@api.get(
    "/menu",
    response={200: Menu, 304: None, 503: ProblemDoc},
    **operation(
        "menu",
        "The menu",
        "Active pizzas with the price of each size. Send the ETag back as "
        "If-None-Match: 304 Not Modified (no body) while the menu is unchanged.",
    ),
)
def menu(request):
    body = json.dumps(menu_body(), separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag_matches(request.headers.get("If-None-Match", ""), etag):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@api.get("/shop", response={200: Shop, 503: ProblemDoc}, **operation("shop", "Is the shop taking orders?"))
def shop(request):
    response = HttpResponse(json.dumps({"open": orders_open()}), content_type="application/json")
    response["Cache-Control"] = "no-cache"
    return response


# --- Orders -------------------------------------------------------------------------------


def timeline(order: Order) -> list[dict]:
    """Where the order is: done, current and still-to-come steps (a cancelled order is one step)."""
    if order.status == Status.CANCELLED:
        flow = [Status.RECEIVED, Status.CANCELLED]
    else:
        flow = [Status.RECEIVED, Status.BAKING, Status.OUT_FOR_DELIVERY, Status.DELIVERED]
    reached = flow.index(order.status)
    steps = []
    for i, status in enumerate(flow):
        at = order.created_at if i == 0 else order.updated_at if i == reached else None
        steps.append(
            {
                "status": status.value,  # type: ignore[attr-defined]  # TextChoices member: mypy without django-stubs sees a tuple
                "label": status.label,  # type: ignore[attr-defined]  # as above
                "at": at,
                "state": "done" if i < reached else "current" if i == reached else "todo",
            }
        )
    return steps


def order_body(order: Order) -> dict:
    body = {
        "reference": order.reference,
        "status": order.status,
        "status_label": Status(order.status).label,
        "pizza": order.pizza.name,
        "size": order.size,
        "quantity": order.quantity,
        "total": str(order.total),
        "currency": CURRENCY,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "timeline": timeline(order),
        "token": order.access_token,
        "status_url": reverse(f"{NAMESPACE}:order", args=[order.access_token]),
    }
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


def json_response(body: dict, status: int = 200) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"  # the body holds the order's secret token
    return response


def form_problem(form: OrderForm) -> Problem:
    errors = [
        field_error(name, error.messages[0], error.code or "invalid") for name, errors in form.errors.as_data().items() for error in errors
    ]
    return Problem(422, "validation", "Invalid order", "Some fields need attention: see errors.", errors)


@api.post(
    "/orders",
    response={201: OrderOut, POST_ERRORS: ProblemDoc},
    **operation(
        "place_order",
        "Place an order",
        "Needs an Idempotency-Key header (a UUID, new for each order). A retry with the same key and "
        "body answers the original 201 again with `Idempotent-Replayed: true`; the same key with another body is "
        "422 (idempotency-key-reused); while the first request is still running, 409 with Retry-After.",
        url_name="orders",
    ),
)
def place(
    request,
    payload: OrderIn,
    idempotency_key: str = Header(..., alias=idempotency.HEADER, pattern=idempotency.KEY_PATTERN, description="A UUID, new for each order"),
):
    key = idempotency.parse_key(idempotency_key)
    data = payload.model_dump()
    claim_ = idempotency.claim(key, idempotency.fingerprint(data))
    if claim_.replay:
        return replay(claim_.row)
    try:
        ratelimit.check(request, "orders")  # replays, conflicts and reuses above are not counted
        if not orders_open():
            raise Problem(503, "shop-closed", "Shop closed", "The shop is not taking orders right now.", headers={"Retry-After": "600"})
        # The web form's rules, unchanged: the API's types are strict, so str() of each value is exact.
        form = OrderForm(data={**{name: str(value) for name, value in data.items()}, "form_token": str(key)})
        if not form.is_valid():
            raise form_problem(form)
        try:
            order, created = place_order(form.cleaned_data, key, visitor_id(request), channel="api")
        except PizzaUnavailable:  # withdrawn since this process read the menu: nothing was stored
            form.add_error("pizza", PIZZA_GONE)
            raise form_problem(form) from None
        if not created and not order_matches(order, form.cleaned_data):
            # The key made another order before (a web form token, or a key whose record expired).
            raise idempotency.reused()
    except BaseException:
        idempotency.release(claim_.row)
        raise
    body = order_body(order)
    idempotency.complete(claim_.row, order, 201, body)
    response = json_response(body, 201)
    response["Location"] = body["status_url"]
    return response


def replay(row) -> HttpResponse:
    response = json_response(row.response_body, row.response_status)
    response[idempotency.REPLAY_HEADER] = "true"
    if "status_url" in row.response_body:
        response["Location"] = row.response_body["status_url"]
    return response


@api.get(
    "/orders/{token}",
    response={200: OrderOut, READ_ERRORS: ProblemDoc},
    **operation("order", "Read an order", "`token` is the order's secret from the 201 of POST /orders."),
)
def order(request, token: str):
    found = Order.objects.select_related("pizza").filter(access_token=token).first()
    if found is None:
        raise Problem(404, detail="No order has this token.")
    response = json_response(order_body(found))
    response["Referrer-Policy"] = "no-referrer"
    return response
