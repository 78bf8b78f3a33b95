"""Idempotency keys of POST /api/v1/orders (IETF draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

from django.db import models


class IdempotencyKey(models.Model):
    """One client request attempt: its key, a fingerprint of its body, and once done, its response.

    A row with no `completed_at` is in flight. The key is also the order's one-time token
    (Order.form_token), so a request that takes over a stale in-flight row (its process died) finds
    the order if one was made instead of making a second.
    """

    key = models.UUIDField(unique=True)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField(help_text="When the current attempt claimed the key")
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "idempotency key"

    def __str__(self) -> str:
        return str(self.key)
