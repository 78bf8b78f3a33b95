"""Signed values the browser carries back: which variant rendered a page or an order form.

Signed with SECRET_KEY, so a client can neither forge a variant nor move a token to another
visitor or another form.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

SEEN_SALT = "experiment.seen"
FORM_SALT = "experiment.form"
SEEN_MAX_AGE = 24 * 3600  # an exposure beacon is fired at once; a day covers a tab restored the next morning


def seen_token(visitor_id: str, variant: str) -> str:
    return signing.TimestampSigner(salt=SEEN_SALT).sign(f"{visitor_id}.{variant}")


def read_seen_token(token: str) -> tuple[str, str] | None:
    """(visitor_id, variant) of a genuine, fresh token; None otherwise."""
    try:
        value = signing.TimestampSigner(salt=SEEN_SALT).unsign(token, max_age=SEEN_MAX_AGE)
    except signing.BadSignature:
        return None
    visitor_id, _, variant = value.partition(".")
    return (visitor_id, variant) if variant in settings.VARIANT_SET.variants else None


def form_variant_token(form_token) -> str:
    """The order form's hidden `shown_by` value: this variant, bound to this form's one-time token."""
    return signing.Signer(salt=FORM_SALT).sign(f"{settings.VARIANT}.{form_token}")


def read_form_variant(value: str, form_token) -> str | None:
    """The variant that rendered the submitted form, or None when the field is missing, forged or from another form."""
    try:
        variant, _, token = signing.Signer(salt=FORM_SALT).unsign(value or "").partition(".")
    except signing.BadSignature:
        return None
    return variant if token == str(form_token) and variant in settings.VARIANT_SET.variants else None
