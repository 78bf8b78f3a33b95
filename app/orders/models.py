"""The menu and the orders that every variant shares."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .validators import no_bidi_controls

# References avoid 0/O and 1/I/L so they can be read out over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 10  # 31^10 ≈ 8e14: not guessable, not sequential


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def new_access_token() -> str:
    """The secret in the customer's status link (256 bits)."""
    return secrets.token_urlsafe(32)


class Pizza(models.Model):
    name = models.CharField(max_length=60, unique=True)
    description = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=7, decimal_places=2, help_text="Price of a medium pizza")
    active = models.BooleanField(default=True, help_text="Inactive pizzas are hidden and cannot be ordered")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Size(models.TextChoices):
    SMALL = "small", "Small (25 cm)"
    MEDIUM = "medium", "Medium (30 cm)"
    LARGE = "large", "Large (35 cm)"


SIZE_FACTORS: dict[str, Decimal] = {Size.SMALL: Decimal("0.80"), Size.MEDIUM: Decimal("1.00"), Size.LARGE: Decimal("1.30")}


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    BAKING = "baking", "Baking"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# Which status may follow which; anything else is refused.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.BAKING, Status.CANCELLED),
    Status.BAKING: (Status.OUT_FOR_DELIVERY, Status.CANCELLED),
    Status.OUT_FOR_DELIVERY: (Status.DELIVERED,),
    Status.DELIVERED: (),
    Status.CANCELLED: (),
}


class Order(models.Model):
    reference = models.CharField(max_length=16, unique=True, default=new_reference, editable=False)
    access_token = models.CharField(max_length=64, unique=True, default=new_access_token, editable=False)
    # The one-time token of the form that created this order: a retried POST finds it here.
    form_token = models.UUIDField(unique=True, editable=False)
    pizza = models.ForeignKey(Pizza, on_delete=models.PROTECT, related_name="orders")
    size = models.CharField(max_length=10, choices=Size.choices, default=Size.MEDIUM)
    quantity = models.PositiveSmallIntegerField()
    unit_price = models.DecimalField(max_digits=7, decimal_places=2)
    total = models.DecimalField(max_digits=9, decimal_places=2)
    customer_name = models.CharField(max_length=100, validators=[no_bidi_controls])
    phone = models.CharField(max_length=20)
    address = models.CharField(max_length=300, validators=[no_bidi_controls])
    comments = models.TextField(max_length=1000, blank=True, default="", validators=[no_bidi_controls])
    variant = models.CharField(max_length=1, help_text="The release (a, b, c...) that served the order")
    visitor_id = models.CharField(max_length=32, blank=True, default="", help_text="First-party visitor cookie")
    # db_default: releases that predate this column keep inserting orders without naming it.
    channel = models.CharField(max_length=10, default="web", db_default="web", help_text="web form or api (mobile app)")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Who made the last status change (a username), so a stale click can say who moved the order.
    # db_default: releases that predate this column keep inserting orders without naming it.
    status_changed_by = models.CharField(max_length=150, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The staff table walks these in keyset order: newest first, optionally one status or variant.
            models.Index(F("created_at").desc(), F("id").desc(), name="order_newest"),
            models.Index("status", F("created_at").desc(), F("id").desc(), name="order_status_newest"),
            models.Index("variant", F("created_at").desc(), F("id").desc(), name="order_variant_newest"),
            models.Index("phone", name="order_phone"),
            # Name search is a prefix match (LIKE 'x%'): pattern ops let the B-tree answer it in any collation.
            models.Index(fields=["customer_name"], opclasses=["varchar_pattern_ops"], name="order_name_prefix"),
        ]
        permissions = [("change_order_status", "Can move an order to its next status")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1) & Q(quantity__lte=20), name="order_quantity_1_20"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="order_status_known"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def next_statuses(self) -> list[tuple[str, str]]:
        """(value, label) of each status this order may move to next."""
        return [(value, Status(value).label) for value in TRANSITIONS.get(self.status, ())]
