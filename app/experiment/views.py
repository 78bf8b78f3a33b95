"""The staff Experiment page: which design sells best, is it significant, and is the split healthy."""

from __future__ import annotations

import csv

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ops.access import staff_required
from ops.roles import VIEW_EXPERIMENT

from . import charts
from .forms import ReportForm
from .report import Report, build_report

CSV_COLUMNS = [
    "variant", "theme", "weight", "control", "expected_share_pct", "observed_share_pct", "visitors", "orders",
    "converting_visitors", "conversion_pct", "ci_low_pct", "ci_high_pct", "revenue", "revenue_per_visitor",
    "diff_vs_control_pp", "diff_ci_low_pp", "diff_ci_high_pp", "p_value", "significant", "enough_data",
    "unattributed_orders",
]


def _num(value, places: int = 4) -> str:
    return "" if value is None else f"{value:.{places}f}"


def csv_response(report: Report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="experiment-{report.date_from}-{report.date_to}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow([
            row.name, row.theme, row.weight, "yes" if row.is_control else "no",
            _num(row.expected_share_pct, 2), _num(row.observed_share_pct, 2), row.visitors, row.orders, row.converters,
            _num(row.rate_pct), _num(row.ci_low_pct), _num(row.ci_high_pct), _num(row.revenue, 2), _num(row.revenue_per_visitor, 4),
            _num(row.diff_pp), _num(row.diff_low_pp), _num(row.diff_high_pp), "" if row.p_value is None else f"{row.p_value:.6g}",
            "" if row.comparison is None else ("yes" if row.significant else "no"), "yes" if row.enough_data else "no",
            row.unattributed_orders,
        ])
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
    response = render(request, "experiment/report.html", {
        "form": form,
        "report": result,
        "conversion_chart": charts.conversion_chart(result),
        "split_chart": charts.split_chart(result),
        "csv_url": f"?{query.urlencode()}",
        "env": variant_set.env,
    })
    response["Cache-Control"] = "no-store"
    return response
