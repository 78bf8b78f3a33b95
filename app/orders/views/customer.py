"""What customers see: the menu, the order form, the confirmation and the status page."""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from experiment.tokens import form_variant_token, read_form_variant
from ops import metrics
from ops.slug_urls import slug_url

from .. import queries
from ..forms import OrderForm
from ..menu import active_pizzas
from ..models import Order, Status
from ..services import PIZZA_GONE, PizzaUnavailable, find_by_token, order_matches, orders_open, parse_token, place_order, visitor_id

RESUBMITTED = "resubmitted"
# A menu link's ?pizza=<id>: ASCII digits only ('²'.isdigit() is true, int('²') is not).
PIZZA_ID = re.compile(r"[0-9]{1,9}")


def closed(request, status=503):
    response = render(request, "orders/closed.html", status=status)
    response["Retry-After"] = "600"
    return response


@require_safe  # GET and HEAD: monitors probe with HEAD
def home(request):
    return render(request, "orders/home.html", {"pizzas": active_pizzas(), "orders_open": orders_open()})


@require_http_methods(["GET", "HEAD", "POST"])
def order_create(request):
    if request.method != "POST":
        if not orders_open():
            return closed(request, status=200)
        initial: dict[str, object] = {"form_token": uuid.uuid4()}
        initial["shown_by"] = form_variant_token(initial["form_token"])
        if PIZZA_ID.fullmatch(request.GET.get("pizza", "")):
            initial["pizza"] = int(request.GET["pizza"])
        return render(request, "orders/order_form.html", {"form": OrderForm(initial=initial)})

    form = OrderForm(request.POST)
    is_open = orders_open()
    if is_open and form.is_valid():
        # The unique form_token decides: a retry of a placed order gets that order back from here.
        token = form.cleaned_data["form_token"]
        # The variant whose design rendered this form (signed, bound to its token), not the one answering now.
        shown_by = read_form_variant(form.cleaned_data.get("shown_by", ""), token)
        try:
            order, created = place_order(form.cleaned_data, token, visitor_id(request), variant=shown_by)
        except PizzaUnavailable:  # withdrawn since this process read the menu: nothing was stored
            form.add_error("pizza", PIZZA_GONE)
        else:
            return see_confirmation(order, resubmitted=not created and not order_matches(order, form.cleaned_data))
    # A retry of a form that already produced an order lands on that order, even if the shop has
    # closed or the menu changed since; changed details are not applied, and the page says so.
    existing = find_by_token(parse_token(request.POST.get("form_token")))
    if existing is not None:
        same = form.is_valid() and order_matches(existing, form.cleaned_data)
        return see_confirmation(existing, resubmitted=not same)
    if not is_open:
        metrics.order_refused("closed")
        return closed(request)
    # Keep the customer's token: a corrected resubmission is still the same order attempt.
    metrics.order_refused("validation")
    return render(request, "orders/order_form.html", {"form": form}, status=422)


def see_confirmation(order: Order, resubmitted: bool = False):
    """303 See Other: the browser GETs the confirmation, and a reload never re-posts the form.

    `resubmitted`: the form was sent again with other details; the confirmation says the order was
    already placed as shown (the one-time token protects it like an Idempotency-Key).
    """
    location = slug_url("orders:confirmation", order.access_token)
    response = HttpResponseRedirect(location + "?" + RESUBMITTED if resubmitted else location)
    response.status_code = 303
    return response


def customer_order(access_token: str) -> Order:
    order = queries.customer_order(access_token)
    if order is None:
        raise Http404("No order has this link.")
    return order


@require_safe
def confirmation(request, access_token: str):
    context = {"order": customer_order(access_token), "resubmitted": RESUBMITTED in request.GET}
    response = render(request, "orders/confirmation.html", context)
    response["Cache-Control"] = "no-store"  # the customer's name and address
    response["Referrer-Policy"] = "no-referrer"  # the link is the secret: never leak it onward
    return response


@require_safe
def order_status(request, access_token: str):
    order = customer_order(access_token)
    response = render(
        request,
        "orders/order_status.html",
        {"order": order, "steps": steps(order), "final": order.status in FINAL, "poll_seconds": settings.STATUS_POLL_SECONDS},
    )
    return private(response)


@require_GET
def order_status_json(request, access_token: str):
    """What the status page's script polls: the status, its label and the progress line; `final`
    tells it to stop asking."""
    order = Order.objects.only("status").filter(access_token=access_token).first()
    if order is None:
        return private(JsonResponse({"error": "No such order."}, status=404))
    return private(
        JsonResponse({"status": order.status, "label": order.get_status_display(), "final": order.status in FINAL, "steps": steps(order)})
    )


def private(response):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the link is the secret: never leak it onward
    return response


# Once here an order never changes again, so its status page stops polling.
FINAL = (Status.DELIVERED, Status.CANCELLED)


def steps(order: Order) -> list[dict]:
    """The status page's progress line: done, current and still-to-come steps."""
    flow = [Status.RECEIVED, Status.BAKING, Status.OUT_FOR_DELIVERY, Status.DELIVERED]
    if order.status == Status.CANCELLED:
        return [{"label": Status.CANCELLED.label, "state": "current"}]
    reached = flow.index(order.status)
    return [{"label": s.label, "state": "done" if i < reached else "current" if i == reached else "todo"} for i, s in enumerate(flow)]
