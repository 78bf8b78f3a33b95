"""Customer pages, the staff order table, and a small JSON API for a mobile app."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
import waffle

from experiment.tokens import form_variant_token, read_form_variant

from .forms import OrderForm, StaffFilterForm
from .models import Order, Pizza, Status, change_status
from .services import find_by_token, place_order, visitor_id

ORDERS_OPEN = "orders_open"
PAGE_SIZE = 50


def parse_token(value) -> uuid.UUID | None:
    """The one-time token of a form or an Idempotency-Key header; None when absent or malformed."""
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _closed(request, status=503):
    response = render(request, "orders/closed.html", status=status)
    response["Retry-After"] = "600"
    return response


# --- Customers ------------------------------------------------------------------------------

@require_GET
def home(request):
    pizzas = Pizza.objects.filter(active=True)
    return render(request, "orders/home.html", {"pizzas": pizzas, "orders_open": waffle.switch_is_active(ORDERS_OPEN)})


@require_http_methods(["GET", "POST"])
def order_create(request):
    if request.method == "GET":
        if not waffle.switch_is_active(ORDERS_OPEN):
            return _closed(request, status=200)
        initial = {"form_token": uuid.uuid4()}
        initial["shown_by"] = form_variant_token(initial["form_token"])
        if request.GET.get("pizza", "").isdigit():
            initial["pizza"] = int(request.GET["pizza"])
        return render(request, "orders/order_form.html", {"form": OrderForm(initial=initial)})

    form = OrderForm(request.POST)
    if waffle.switch_is_active(ORDERS_OPEN) and form.is_valid():
        # The unique form_token decides: a retry of a placed order gets that order back from here.
        token = form.cleaned_data["form_token"]
        shown_by = read_form_variant(form.cleaned_data.get("shown_by", ""), token)
        order, _created = place_order(form.cleaned_data, token, visitor_id(request), variant=shown_by)
        return _see_confirmation(order)
    # A retry of a form that already produced an order lands on that order, even if the shop has
    # closed or the menu changed since.
    existing = find_by_token(parse_token(request.POST.get("form_token")))
    if existing is not None:
        return _see_confirmation(existing)
    if not waffle.switch_is_active(ORDERS_OPEN):
        return _closed(request)
    # Keep the customer's token: a corrected resubmission is still the same order attempt.
    return render(request, "orders/order_form.html", {"form": form}, status=422)


def _see_confirmation(order: Order):
    """303 See Other: the browser GETs the confirmation, and a reload never re-posts the form."""
    response = redirect("orders:confirmation", access_token=order.access_token)
    response.status_code = 303
    return response


# What the confirmation and status pages show: fewer columns, a cheaper query to build and run.
CUSTOMER_FIELDS = ("reference", "access_token", "customer_name", "address", "quantity", "size", "total", "status", "pizza__name")


@require_GET
def confirmation(request, access_token: str):
    order = get_object_or_404(Order.objects.select_related("pizza").only(*CUSTOMER_FIELDS), access_token=access_token)
    return render(request, "orders/confirmation.html", {"order": order})


@require_GET
def order_status(request, access_token: str):
    order = get_object_or_404(Order.objects.select_related("pizza").only(*CUSTOMER_FIELDS), access_token=access_token)
    response = render(request, "orders/order_status.html", {"order": order, "steps": _steps(order)})
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the link is the secret: never leak it onward
    return response


def _steps(order: Order) -> list[dict]:
    flow = [Status.RECEIVED, Status.BAKING, Status.OUT_FOR_DELIVERY, Status.DELIVERED]
    if order.status == Status.CANCELLED:
        return [{"label": Status.CANCELLED.label, "state": "current"}]
    reached = flow.index(order.status)
    return [{"label": s.label, "state": "done" if i < reached else "current" if i == reached else "todo"} for i, s in enumerate(flow)]


def csrf_failure(request, reason=""):
    """A clear page instead of Django's technical one; nothing was stored."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)


# --- Staff ----------------------------------------------------------------------------------

def staff_required(view):
    """Anonymous visitors go to the login page; logged-in non-staff get 403."""

    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Staff only")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def encode_cursor(order: Order) -> str:
    raw = f"{order.created_at.isoformat()}|{order.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        stamp, _, pk = raw.partition("|")
        moment = datetime.fromisoformat(stamp)
        if timezone.is_naive(moment):
            return None
        return moment, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def staff_queryset(filters: dict):
    qs = Order.objects.select_related("pizza").only(
        "reference", "pizza__name", "size", "quantity", "total", "customer_name", "phone",
        "variant", "status", "created_at",
    )
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("variant"):
        qs = qs.filter(variant=filters["variant"])
    tz = timezone.get_current_timezone()
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=datetime.combine(filters["date_from"], time.min, tz))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=datetime.combine(filters["date_to"] + timedelta(days=1), time.min, tz))
    q = (filters.get("q") or "").strip()
    if q:
        # Each search form uses an index: reference and phone by equality, the name by prefix.
        digits = re.sub(r"[^0-9]", "", q)
        condition = Q(reference=q.upper()) | Q(customer_name__startswith=q)
        if digits and len(digits) >= 6:
            condition |= Q(phone=("+" if q.strip().startswith("+") else "") + digits)
        qs = qs.filter(condition)
    return qs.order_by("-created_at", "-id")


@staff_required
@require_GET
def staff_orders(request):
    variants = list(settings.VARIANT_SET.variants)
    form = StaffFilterForm(request.GET or None, variants=variants)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = staff_queryset(filters)
    cursor = decode_cursor(request.GET.get("after", ""))
    if cursor:
        # Keyset pagination: a row comparison the (created_at, id) index answers directly, at any depth.
        qs = qs.extra(where=["(orders_order.created_at, orders_order.id) < (%s, %s)"], params=list(cursor))
    rows = list(qs[: PAGE_SIZE + 1])
    next_cursor = encode_cursor(rows[PAGE_SIZE - 1]) if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    return render(request, "orders/staff/order_list.html", {
        "form": form,
        "orders": rows,
        "next_url": f"{request.path}?{query.urlencode()}&after={next_cursor}" if next_cursor else None,
        "first_url": f"{request.path}?{query.urlencode()}" if cursor else None,
        "here": request.get_full_path(),
    })


@staff_required
@require_POST
def staff_change_status(request, reference: str):
    order = get_object_or_404(Order.objects.only("pk", "status"), reference=reference)
    expected = request.POST.get("expected", "")
    new = request.POST.get("status", "")
    if expected not in Status.values or new not in Status.values:
        ok, message = False, "Unknown status."
    else:
        ok, message = change_status(order.pk, expected, new)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"ok": ok, "message": message, "reference": reference}, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, f"{reference}: {message}")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("orders:staff_orders")
    return redirect(target)


# --- JSON API (mobile app) ------------------------------------------------------------------

def _api_error(status: int, message: str, errors: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": message, "fields": errors or {}}, status=status)


def _order_json(order: Order) -> dict:
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
    return JsonResponse({"pizzas": pizzas, "orders_open": waffle.switch_is_active(ORDERS_OPEN)})


@csrf_exempt  # no cookie authentication here: the Idempotency-Key makes retries safe instead
@require_POST
def api_orders(request):
    """POST JSON {pizza, size, quantity, customer_name, phone, address, comments} with an
    Idempotency-Key header (a UUID); a retry with the same key returns the same order."""
    token = parse_token(request.headers.get("Idempotency-Key"))
    if token is None:
        return _api_error(400, "Send an Idempotency-Key header holding a UUID.")
    existing = find_by_token(token)
    if existing is not None:
        return JsonResponse(_order_json(existing), status=200)
    if not waffle.switch_is_active(ORDERS_OPEN):
        return _api_error(503, "Ordering is closed right now.")
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _api_error(400, "The body must be a JSON object.")
    if not isinstance(body, dict):
        return _api_error(400, "The body must be a JSON object.")
    data = {k: v for k, v in body.items() if k in OrderForm.base_fields and k != "form_token"}
    data["form_token"] = str(token)
    form = OrderForm(data={k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()})
    if not form.is_valid():
        return _api_error(422, "Some fields need attention.", {k: [str(e) for e in v] for k, v in form.errors.items()})
    order, created = place_order(form.cleaned_data, token, visitor_id(request), channel="api")
    return JsonResponse(_order_json(order), status=201 if created else 200)


@require_GET
def api_order(request, access_token: str):
    order = Order.objects.select_related("pizza").filter(access_token=access_token).first()
    if order is None:
        raise Http404("No such order")
    return JsonResponse(_order_json(order))


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return _api_error(404, "Not found.")
    return render(request, "404.html", status=404)


def server_error(request):
    """The last resort: a plain page that needs neither the database nor a request context."""
    return HttpResponse(render_to_string("500.html"), status=500)
