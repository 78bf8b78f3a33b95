"""The experiment's tables.

Assignment and DailyCount (migration 0002) are what the app writes and the page reads. Exposure,
the first per-day log, is no longer written; it stays for releases that still read it and can be
dropped by a later contract step.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Exposure(models.Model):
    day = models.DateField(help_text="The day (in TIME_ZONE) the visitor saw the variant")
    visitor_id = models.CharField(max_length=32, help_text="First-party visitor cookie (random, no personal data)")
    variant = models.CharField(max_length=1, help_text="The release (a, b, c...) that served the page")
    first_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One row per visitor, variant and day; writers INSERT ... ON CONFLICT DO NOTHING against it.
            # visitor_id leads so "did this visitor see that variant in the range" is one index probe.
            models.UniqueConstraint(fields=["visitor_id", "variant", "day"], name="exposure_once_per_day"),
        ]
        indexes = [
            # The report's scans: visitors per variant and multi-variant visitors, index-only over a day range.
            models.Index(fields=["day", "variant", "visitor_id"], name="exposure_day_variant"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.variant} {self.visitor_id}"


class Assignment(models.Model):
    """Each visitor's first exposure, written once: the variant they are credited to for good.

    A visitor later seen on another variant keeps this variant and is flagged as a crossover; their
    orders add to orders and revenue here, so the daily counters can be kept exact.
    """

    visitor_id = models.CharField(primary_key=True, max_length=32, help_text="First-party visitor cookie")
    variant = models.CharField(max_length=1, help_text="The variant that first showed this visitor a landing page or order form")
    day = models.DateField(help_text="The day (in TIME_ZONE) of the first exposure: the visitor's cohort")
    first_seen = models.DateTimeField(default=timezone.now)
    crossed = models.BooleanField(default=False, db_default=False, help_text="Also seen on another variant")
    orders = models.PositiveIntegerField(default=0, db_default=0)
    revenue = models.DecimalField(max_digits=12, decimal_places=2, default=0, db_default=0, help_text="Capped per order")

    def __str__(self) -> str:
        return f"{self.visitor_id} -> {self.variant}"


class DailyCount(models.Model):
    """Running totals per cohort day and variant: the page and the CSV read only these rows.

    Counts are keyed by the day the visitor was first exposed (their cohort), so a visitor's later
    orders land on the same row as the visitor. `shard` spreads concurrent increments over a few
    rows so that busy minutes do not queue on one row lock.
    """

    day = models.DateField()
    variant = models.CharField(max_length=1)
    shard = models.PositiveSmallIntegerField(default=0)
    visitors = models.BigIntegerField(default=0, db_default=0)
    converters = models.BigIntegerField(default=0, db_default=0, help_text="Visitors with at least one counted order")
    orders = models.BigIntegerField(default=0, db_default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0, db_default=0)
    revenue_sq = models.FloatField(default=0, db_default=0, help_text="Sum over visitors of (capped revenue)^2")
    crossovers = models.BigIntegerField(default=0, db_default=0, help_text="Visitors of this cohort later seen on another variant")
    unattributed = models.BigIntegerField(default=0, db_default=0, help_text="Web orders (keyed by order day) with no earlier exposure")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "variant", "shard"], name="dailycount_once")]

    def __str__(self) -> str:
        return f"{self.day} {self.variant}/{self.shard}"
