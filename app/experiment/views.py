"""The staff Experiment page: which design sells best, is it significant, and is the split healthy."""

from __future__ import annotations

import csv

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ops.access import staff_required
from ops.roles import VIEW_EXPERIMENT
from orders.services import visitor_id

from . import charts, tokens, tracking
from .figures import Report
from .forms import ReportForm
from .middleware import is_bot, is_prefetch, is_staff, log, seen
from .report import build_report

CSV_COLUMNS = [
    "variant",
    "theme",
    "weight",
    "control",
    "expected_share_pct",
    "observed_share_pct",
    "visitors",
    "crossovers",
    "orders",
    "converting_visitors",
    "conversion_pct",
    "ci_low_pct",
    "ci_high_pct",
    "diff_vs_control_pp",
    "diff_always_valid_low_pp",
    "diff_always_valid_high_pp",
    "diff_newcombe_low_pp",
    "diff_newcombe_high_pp",
    "lift_pct",
    "lift_always_valid_low_pct",
    "lift_always_valid_high_pct",
    "p_value_always_valid_holm",
    "significant",
    "revenue_capped",
    "revenue_per_visitor",
    "rpv_ci_low",
    "rpv_ci_high",
    "rpv_diff_vs_control",
    "rpv_diff_always_valid_low",
    "rpv_diff_always_valid_high",
    "rpv_lift_pct",
    "rpv_p_value_always_valid_holm",
    "rpv_significant",
    "enough_data",
    "unattributed_orders",
]


def _num(value, places: int = 4) -> str:
    return "" if value is None else f"{value:.{places}f}"


def _yes(flag: bool, known: bool) -> str:
    return "" if not known else ("yes" if flag else "no")


def csv_response(report: Report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="experiment-{report.date_from}-{report.date_to}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        rpv_low, rpv_high = row.rpv_interval or (None, None)
        writer.writerow(
            [
                row.name,
                row.theme,
                row.weight,
                "yes" if row.is_control else "no",
                _num(row.expected_share_pct, 2),
                _num(row.observed_share_pct, 2),
                row.visitors,
                row.crossovers,
                row.orders,
                row.converters,
                _num(row.rate_pct),
                _num(row.ci_low_pct),
                _num(row.ci_high_pct),
                _num(row.diff_pp),
                _num(row.diff_low_pp),
                _num(row.diff_high_pp),
                _num(row.newcombe_low_pp),
                _num(row.newcombe_high_pp),
                _num(row.lift_pct, 2),
                _num(row.lift_low_pct, 2),
                _num(row.lift_high_pct, 2),
                "" if row.p_value is None else f"{row.p_value:.6g}",
                _yes(row.significant, row.conversion is not None),
                _num(row.revenue, 2),
                _num(row.revenue_per_visitor),
                _num(rpv_low),
                _num(rpv_high),
                _num(row.rpv_diff),
                _num(row.rpv_diff_low),
                _num(row.rpv_diff_high),
                _num(row.rpv_lift_pct, 2),
                "" if row.revenue_test is None else f"{row.revenue_test.adjusted_p:.6g}",
                _yes(row.revenue_significant, row.revenue_test is not None),
                "yes" if row.enough_data else "no",
                row.unattributed_orders,
            ]
        )
    return response


@staff_required(VIEW_EXPERIMENT)
@require_GET
def report(request):
    variant_set = settings.VARIANT_SET
    form = ReportForm(request.GET or None, variant_set=variant_set)
    date_from, date_to, control = form.period()
    result = build_report(variant_set, date_from, date_to, control)
    if request.GET.get("format") == "csv":
        return csv_response(result)
    query = request.GET.copy()
    query["format"] = "csv"
    response = render(
        request,
        "experiment/report.html",
        {
            "form": form,
            "report": result,
            "conversion_chart": charts.conversion_chart(result),
            "split_chart": charts.split_chart(result),
            "csv_url": f"?{query.urlencode()}",
            "env": variant_set.env,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def seen_beacon(request, token: str):
    """The exposure beacon: records (visitor, variant that rendered the page) once the cookie comes back.

    204 whether or not it counted (a browser has nothing to show); 400 for a token that is not ours.
    """
    found = tokens.read_seen_token(token)
    if found is None:
        return HttpResponseBadRequest("Not a valid exposure token.", content_type="text/plain")
    response = HttpResponse(status=204)
    response["Cache-Control"] = "no-store"
    visitor, variant = found
    # The cookie must come back and match: cookie-less clients never become visitors.
    if visitor != visitor_id(request) or not getattr(settings, "RECORD_EXPOSURES", True):
        return response
    if is_bot(request) or is_prefetch(request) or is_staff(request) or (visitor, variant) in seen:
        return response
    try:
        tracking.record_exposure(visitor, variant)
    except DatabaseError as exc:
        log.warning("exposure not recorded: %s", type(exc).__name__, extra={"error": str(exc).strip()[:300]})
        return response
    seen.add((visitor, variant))
    return response
