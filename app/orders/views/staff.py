"""The staff order table and its status changes: views only parse input and render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from ops.access import staff_required
from ops.roles import CHANGE_STATUS, VIEW_ORDERS

from .. import queries, staff_table
from ..forms import StaffFilterForm
from ..models import Order, Status
from ..services import change_status


@staff_required(VIEW_ORDERS)
@require_GET
def staff_orders(request):
    form = StaffFilterForm(request.GET or None, variants=list(settings.VARIANT_SET.variants))
    filters = form.cleaned_data if form.is_valid() else {}
    cursor = queries.decode_cursor(request.GET.get("after", ""))
    rows, next_cursor = queries.staff_page(filters, cursor)
    query = request.GET.copy()
    query.pop("after", None)
    here = request.get_full_path()
    # One masked CSRF token for the page's status forms and its logout form (each get_token masks anew).
    csrf_token = get_token(request)
    return render(
        request,
        "orders/staff/order_list.html",
        {
            "form": form,
            "no_filters": not any(request.GET.get(name) for name in form.fields),
            "orders": rows,
            "rows": staff_table.rows(rows, lambda: csrf_token, here),
            "csrf_token": csrf_token,
            "next_url": f"{request.path}?{query.urlencode()}&after={next_cursor}" if next_cursor else None,
            "first_url": f"{request.path}?{query.urlencode()}" if cursor else None,
            "here": here,
        },
    )


@staff_required(CHANGE_STATUS)
@require_POST
def staff_change_status(request, reference: str):
    order = get_object_or_404(Order.objects.only("pk", "status"), reference=reference)
    expected = request.POST.get("expected", "")
    new = request.POST.get("status", "")
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    if new == Status.CANCELLED and not wants_json and request.POST.get("confirm") != "yes":
        # A cancel from a browser form is only done from the confirmation page, never in one click.
        return HttpResponseRedirect(confirm_cancel_url(reference, request.POST.get("next", "")))
    if expected not in Status.values or new not in Status.values:
        ok, message = False, "Unknown status."
    else:
        ok, message = change_status(order.pk, expected, new, by=request.user.get_username())
    if wants_json:
        return JsonResponse({"ok": ok, "message": message, "reference": reference}, status=200 if ok else 409)
    (messages.success if ok else messages.error)(request, f"{reference}: {message}")
    return HttpResponseRedirect(safe_next(request, request.POST.get("next", "")))  # never redirect(): it reads next="0" as a view name


def safe_next(request, target: str) -> str:
    """Back to the table the staff member came from, never to another site."""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return reverse("orders:staff_orders")
    return target


def confirm_cancel_url(reference: str, back: str) -> str:
    return f"{reverse('orders:staff_confirm_cancel', args=[reference])}?{urlencode({'next': back})}"


@staff_required(CHANGE_STATUS)
@require_GET
def staff_confirm_cancel(request, reference: str):
    """The step between "Cancel…" and a cancelled order: what is being cancelled, and a way back."""
    order = get_object_or_404(Order.objects.select_related("pizza").only(*queries.STAFF_FIELDS), reference=reference)
    return render(
        request,
        "orders/staff/confirm_cancel.html",
        {
            "order": order,
            "can_cancel": Status.CANCELLED in dict(order.next_statuses),
            "back": safe_next(request, request.GET.get("next", "")),
        },
    )
