"""Who saw which variant, once per visitor, variant and day: the denominator of every conversion rate."""

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
