"""The JSON API for the mobile app (/api/v1)."""

from __future__ import annotations

import json

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ops import metrics

from ..forms import OrderForm
from ..models import Order, Pizza
from ..services import find_by_token, orders_open, parse_token, place_order, visitor_id


def api_error(status: int, message: str, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": message, "fields": errors or {}}, status=status)


def order_json(order: Order) -> dict:
    return {
        "reference": order.reference,
        "status": order.status,
        "pizza": order.pizza.name,
        "size": order.size,
        "quantity": order.quantity,
        "total": str(order.total),
        "variant": order.variant,
        "created_at": order.created_at.isoformat(),
        "status_url": reverse("orders:api_order", args=[order.access_token]),
    }


@require_GET
def api_menu(request):
    pizzas = [{"id": p.pk, "name": p.name, "description": p.description, "price": str(p.price)}
              for p in Pizza.objects.filter(active=True)]
    return JsonResponse({"pizzas": pizzas, "orders_open": orders_open()})


@csrf_exempt  # no cookie authentication here: the Idempotency-Key makes retries safe instead
@require_POST
def api_orders(request):
    """POST JSON {pizza, size, quantity, customer_name, phone, address, comments} with an
    Idempotency-Key header (a UUID); a retry with the same key returns the same order."""
    token = parse_token(request.headers.get("Idempotency-Key"))
    if token is None:
        metrics.order_refused("bad_request", channel="api")
        return api_error(400, "Send an Idempotency-Key header holding a UUID.")
    existing = find_by_token(token)
    if existing is not None:
        return JsonResponse(order_json(existing), status=200)
    if not orders_open():
        metrics.order_refused("closed", channel="api")
        return api_error(503, "Ordering is closed right now.")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        metrics.order_refused("bad_request", channel="api")
        return api_error(400, "The body must be a JSON object.")
    data = {k: v for k, v in body.items() if k in OrderForm.base_fields and k != "form_token"}
    data["form_token"] = str(token)
    form = OrderForm(data={k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()})
    if not form.is_valid():
        metrics.order_refused("validation", channel="api")
        return api_error(422, "Some fields need attention.", {k: [str(e) for e in v] for k, v in form.errors.items()})
    order, created = place_order(form.cleaned_data, token, visitor_id(request), channel="api")
    return JsonResponse(order_json(order), status=201 if created else 200)


@require_GET
def api_order(request, access_token: str):
    order = Order.objects.select_related("pizza").filter(access_token=access_token).first()
    if order is None:
        raise Http404("No such order")
    return JsonResponse(order_json(order))
